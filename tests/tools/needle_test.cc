// The `needle` command as a user runs it: exit codes, messages, and what
// a SIGKILL in the middle of a run leaves for the next run to finish.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "tests/test_util.h"

extern char** environ;

namespace needle {
namespace {

namespace fs = std::filesystem;
using testing::Lines;
using testing::MakeTempDir;
using testing::ReadFile;
using testing::SampleDir;
using testing::WriteFile;

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Starts `needle args...` with stdout and stderr sent to files in `dir`.
pid_t Start(const std::vector<std::string>& args, const std::string& dir) {
  std::vector<std::string> argv_storage = {NEEDLE_BINARY};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(argv_storage.size() + 1);
  for (std::string& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, (dir + "/stdout").c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, (dir + "/stderr").c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ),
            0);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

Result RunNeedle(const std::vector<std::string>& args) {
  const std::string dir = MakeTempDir();
  const pid_t pid = Start(args, dir);
  int status = 0;
  waitpid(pid, &status, 0);
  Result result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadFile(dir + "/stdout");
  result.err = ReadFile(dir + "/stderr");
  return result;
}

std::string WriteConfig(const std::string& toml) {
  std::string path = MakeTempDir() + "/run.toml";
  WriteFile(path, toml);
  return path;
}

std::map<std::string, std::string> FilesUnder(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) {
      files[fs::relative(entry.path(), dir).string()] =
          ReadFile(entry.path().string());
    }
  }
  return files;
}

TEST(NeedleTest, ConfigCheckPrintsFileLineAndColumnOfABadValue) {
  const std::string config =
      WriteConfig("[doc_length]\nmin_chars = \"fifty\"\n");
  const Result result = RunNeedle({"config", "check", config});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err, "needle: " + config +
                            ":2:13: expected a non-negative integer for "
                            "min_chars, got string \"fifty\"\n");
}

TEST(NeedleTest, ConfigCheckAcceptsTheSampleConfig) {
  const std::string config =
      std::string(NEEDLE_SOURCE_DIR) + "/configs/sample.toml";
  const Result result = RunNeedle({"config", "check", config});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, config + ": ok\n");
}

TEST(NeedleTest, ConfigShowPrintsEveryKeyResolved) {
  const std::string config = WriteConfig("[doc_length]\nmin_chars = 7\n");
  const Result result = RunNeedle({"config", "show", config});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.out.find("min_chars = 7\n"), std::string::npos);
  EXPECT_NE(result.out.find("batch_bytes = 2097152\n"), std::string::npos);
}

TEST(NeedleTest, StagesListShowsTheRegistry) {
  const Result result = RunNeedle({"stages", "list"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_TRUE(result.out.starts_with("doc_length")) << result.out;
}

TEST(NeedleTest, RunSummarizesAndExitsThreeAboveMaxErrorRate) {
  const std::string out = MakeTempDir() + "/out";
  const Result result =
      RunNeedle({"run", "--config",
                 std::string(NEEDLE_SOURCE_DIR) + "/configs/sample.toml", "-o",
                 out, "--max-error-rate", "0.001", SampleDir()});
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_NE(result.out.find("5 quarantined (bad_json 1, bad_utf8 1, "
                            "missing_text 1, text_not_string 1, "
                            "empty_text 1"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.err.find("exceeds --max-error-rate 0.001"),
            std::string::npos)
      << result.err;
  EXPECT_TRUE(fs::exists(out + "/run.json"));
}

TEST(NeedleTest, MissingInputIsAnErrorBeforeAnythingRuns) {
  const Result result =
      RunNeedle({"run", "--config",
                 std::string(NEEDLE_SOURCE_DIR) + "/configs/sample.toml", "-o",
                 MakeTempDir(), "/nonexistent/shard.jsonl"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err, "needle: /nonexistent/shard.jsonl: no such file\n");
}

// Twelve shards of real text, ~1.5 MB each, compressed slowly enough
// (zstd level 15) that a run lasts long enough to be killed in the middle.
std::string MakeCorpus() {
  std::string dir = MakeTempDir() + "/corpus";
  const auto brown = Lines(ReadFile(SampleDir() + "/brown.jsonl"));
  for (size_t shard = 0; shard < 12; ++shard) {
    std::string text;
    for (size_t i = 0; i < 250; ++i) {
      text += brown[(shard * 250 + i) % brown.size()];
      text += '\n';
    }
    WriteFile(dir + "/part-" + std::to_string(100 + shard) + ".jsonl", text);
  }
  return dir;
}

TEST(NeedleTest, KillNineMidRunThenResumeIsByteIdenticalToOneRun) {
  const std::string corpus = MakeCorpus();
  const std::string config = WriteConfig(
      "[output]\nlevel = 15\nwrite_rejected = true\n"
      "[doc_length]\nmin_chars = 20000\n");
  const std::string reference = MakeTempDir() + "/out";
  ASSERT_EQ(RunNeedle({"run", "-c", config, "-o", reference, "-t", "2",
                       "--quiet", corpus})
                .exit_code,
            0);

  const std::string out = MakeTempDir() + "/out";
  const pid_t pid =
      Start({"run", "-c", config, "-o", out, "-t", "1", "--quiet", corpus},
            MakeTempDir());
  // Kill it once the first shard is complete: the second is then half done.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(out + "/done/part-100.json") &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run ended before it was killed";
  size_t done = 0;
  for (const auto& entry : fs::directory_iterator(out + "/done")) {
    done += entry.path().extension() == ".json";
  }
  ASSERT_GE(done, 1u);
  ASSERT_LT(done, 12u) << "killed too late to test a resume";

  const Result resumed =
      RunNeedle({"run", "-c", config, "-o", out, "-t", "2", corpus});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(
      resumed.out.find("12 shards (" + std::to_string(done) + " resumed)"),
      std::string::npos)
      << resumed.out;

  auto expected = FilesUnder(reference);
  auto actual = FilesUnder(out);
  for (auto* files : {&expected, &actual}) {
    // Records and run.json carry timings; compare their counts elsewhere.
    std::erase_if(*files, [](const auto& file) {
      return file.first.starts_with("done/") || file.first == "run.json";
    });
  }
  EXPECT_EQ(actual.size(), expected.size());
  for (const auto& [name, bytes] : expected) {
    EXPECT_TRUE(actual[name] == bytes) << name << " differs";
  }
}

}  // namespace
}  // namespace needle
