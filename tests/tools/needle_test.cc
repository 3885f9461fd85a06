// The `needle` command as a user runs it: exit codes, messages, and what
// a SIGKILL in the middle of a run leaves for the next run to finish.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "pipeline/csv.h"
#include "tests/test_util.h"
#include "tests/tools/run_needle.h"

namespace needle {
namespace {

namespace fs = std::filesystem;
using testing::Lines;
using testing::MakeTempDir;
using testing::NeedleResult;
using testing::ReadFile;
using testing::RunNeedle;
using testing::SampleDir;
using testing::StartNeedle;
using testing::WriteFile;

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
  const NeedleResult result = RunNeedle({"config", "check", config});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err, "needle: " + config +
                            ":2:13: expected a non-negative integer for "
                            "min_chars, got string \"fifty\"\n");
}

TEST(NeedleTest, ConfigCheckAcceptsTheSampleConfig) {
  const std::string config =
      std::string(NEEDLE_SOURCE_DIR) + "/configs/sample.toml";
  const NeedleResult result = RunNeedle({"config", "check", config});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, config + ": ok\n");
}

TEST(NeedleTest, ConfigShowPrintsEveryKeyResolved) {
  const std::string config = WriteConfig("[doc_length]\nmin_chars = 7\n");
  const NeedleResult result = RunNeedle({"config", "show", config});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.out.find("min_chars = 7\n"), std::string::npos);
  EXPECT_NE(result.out.find("batch_bytes = 2097152\n"), std::string::npos);
}

TEST(NeedleTest, StagesListShowsTheRegistry) {
  const NeedleResult result = RunNeedle({"stages", "list"});
  EXPECT_EQ(result.exit_code, 0);
  // One line per stage, name then description; in table order.
  std::vector<std::string> names;
  for (const std::string& line : Lines(result.out)) {
    names.push_back(line.substr(0, line.find(' ')));
    EXPECT_GT(line.size(), 30u) << line;
  }
  for (const char* stage :
       {"doc_length", "lang", "gopher_quality", "gopher_repetition", "c4",
        "fineweb", "url_filter", "pii", "quality", "tokens"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), stage), names.end())
        << stage << " missing from:\n"
        << result.out;
  }
}

TEST(NeedleTest, RunSummarizesAndExitsThreeAboveMaxErrorRate) {
  const std::string out = MakeTempDir() + "/out";
  const NeedleResult result =
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
  const NeedleResult result =
      RunNeedle({"run", "--config",
                 std::string(NEEDLE_SOURCE_DIR) + "/configs/sample.toml", "-o",
                 MakeTempDir(), "/nonexistent/shard.jsonl"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err, "needle: /nonexistent/shard.jsonl: no such file\n");
}

TEST(NeedleTest, RunWritesPiiReplacedTextAndDropsBlockedUrls) {
  const std::string in = MakeTempDir();
  WriteFile(
      in + "/docs.jsonl",
      R"({"id":"a","text":"Mail jane@example.net or 8.8.8.8.",)"
      R"("url":"https://news.example.net/a"})"
      "\n"
      R"({"id":"b","text":"A blocked page.","url":"http://www.example.com/"})"
      "\n");
  const std::string config = WriteConfig(
      "[pipeline]\nstages = [\"url_filter\", \"pii\"]\n"
      "[url_filter]\ndomains_file = \"" +
      testing::DataPath("filters/url_domains.txt") +
      "\"\n"
      "[pii]\nreplace = true\n");
  const std::string out = MakeTempDir() + "/out";
  const NeedleResult result =
      RunNeedle({"run", "-c", config, "-o", out, "--quiet", in});
  ASSERT_EQ(result.exit_code, 0) << result.err;

  const auto kept = Lines(testing::Decompressed(out + "/kept/docs.jsonl.zst"));
  ASSERT_EQ(kept.size(), 1u);  // "b" is on example.com, which is listed
  simdjson::dom::parser parser;
  const simdjson::dom::element doc = parser.parse(kept[0]);
  EXPECT_EQ(std::string_view(doc["id"]), "a");
  EXPECT_EQ(std::string_view(doc["text"]),
            "Mail email@example.com or 22.214.171.124.");
  EXPECT_EQ(int64_t(doc["needle"]["signals"]["pii.emails"]), 1);
  EXPECT_EQ(std::string_view(doc["needle"]["signals"]["url.domain"]),
            "news.example.net");
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
  const pid_t pid = StartNeedle(
      {"run", "-c", config, "-o", out, "-t", "1", "--quiet", corpus},
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

  const NeedleResult resumed =
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

std::string TierConfig(const std::string& tiers,
                       const std::string& doc_length = "") {
  return "[pipeline]\nstages = [\"doc_length\"]\n" + doc_length +
         "[tiers]\nenabled = true\ntiers = [" + tiers + "]\n";
}

TEST(NeedleTest, TuneWithNewTiersEqualsAFullRunAndSweeps) {
  const std::string brown = SampleDir() + "/brown.jsonl";
  const std::string tuned_out = MakeTempDir();
  const NeedleResult first =
      RunNeedle({"run", "-q", "-o", tuned_out, "--config",
                 WriteConfig(TierConfig(R"("raw", "long: chars >= 2000",
                                 "top: keep_fraction 0.5 by chars")")),
                 brown});
  ASSERT_EQ(first.exit_code, 0) << first.err;

  const std::string retiered =
      WriteConfig(TierConfig(R"("raw", "long: chars >= 12000")"));
  const NeedleResult tune =
      RunNeedle({"tune", "--run", tuned_out, "--config", retiered, "--write"});
  ASSERT_EQ(tune.exit_code, 0) << tune.err;
  EXPECT_NE(tune.out.find("long"), std::string::npos) << tune.out;

  const std::string fresh_out = MakeTempDir();
  ASSERT_EQ(
      RunNeedle({"run", "-q", "-o", fresh_out, "--config", retiered, brown})
          .exit_code,
      0);
  const auto tuned = FilesUnder(tuned_out + "/tiers/long");
  EXPECT_EQ(tuned, FilesUnder(fresh_out + "/tiers/long"));
  EXPECT_EQ(FilesUnder(tuned_out + "/tiers/raw"),
            FilesUnder(fresh_out + "/tiers/raw"));
  EXPECT_FALSE(fs::exists(tuned_out + "/tiers/top/brown.jsonl.zst"));
  EXPECT_EQ(ReadFile(tuned_out + "/tiers/funnel.json"),
            ReadFile(fresh_out + "/tiers/funnel.json"));

  // The funnel at three thresholds: more characters, fewer documents.
  const NeedleResult sweep =
      RunNeedle({"tune", "--run", tuned_out, "--config", retiered, "--sweep",
                 "long.chars=0:20000:10000"});
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  const std::vector<std::string> rows = Lines(sweep.out);
  ASSERT_EQ(rows.size(), 4u) << sweep.out;
  std::vector<long> long_docs;
  for (size_t i = 1; i < rows.size(); ++i) {
    std::istringstream row(rows[i]);
    double value = 0;
    long raw_docs = 0, raw_tokens = 0, docs = 0;
    row >> value >> raw_docs >> raw_tokens >> docs;
    EXPECT_EQ(raw_docs, 500);
    long_docs.push_back(docs);
  }
  EXPECT_EQ(long_docs[0], 500);  // chars >= 0: every document
  EXPECT_GT(long_docs[1], long_docs[2]);
  // Kept with the run, and plotted in its report.
  const std::string sweep_json = ReadFile(tuned_out + "/tiers/sweep.json");
  EXPECT_NE(sweep_json.find(R"("values":[0,10000,20000])"), std::string::npos)
      << sweep_json;
  EXPECT_NE(
      ReadFile(tuned_out + "/report.html").find("Threshold sweep: long chars"),
      std::string::npos);
}

TEST(NeedleTest, TuneRefusesAConfigThatChangesWhatWasMeasured) {
  const std::string out = MakeTempDir();
  const std::string tiers = R"("raw", "long: chars >= 2000")";
  ASSERT_EQ(
      RunNeedle({"run", "-q", "-o", out, "--config",
                 WriteConfig(TierConfig(tiers)), SampleDir() + "/brown.jsonl"})
          .exit_code,
      0);
  const NeedleResult tune = RunNeedle(
      {"tune", "--run", out, "--config",
       WriteConfig(TierConfig(tiers, "[doc_length]\nmin_chars = 9000\n"))});
  EXPECT_EQ(tune.exit_code, 1);
  EXPECT_NE(tune.err.find("[doc_length] differ from the run's config"),
            std::string::npos)
      << tune.err;
}

// A `tune --write` killed at any moment: the next one finishes or discards
// the switch it left half done, and the tiers equal a fresh run's.
TEST(NeedleTest, KillNineMidTuneThenTuneAgainEqualsAFreshRun) {
  const std::string brown = SampleDir() + "/brown.jsonl";
  // zstd 12: a rewrite slow enough to be cut at many points.
  const std::string level = "[output]\nlevel = 12\n";
  const std::string first = MakeTempDir() + "/out";
  ASSERT_EQ(RunNeedle({"run", "-q", "-o", first, "--config",
                       WriteConfig(level + TierConfig(R"("raw",
                           "long: chars >= 2000")")),
                       brown})
                .exit_code,
            0);
  const std::string retiered =
      WriteConfig(level + TierConfig(R"("raw", "long: chars >= 12000",
                            "top: keep_fraction 0.5 by chars")"));
  const std::string fresh = MakeTempDir() + "/out";
  ASSERT_EQ(RunNeedle({"run", "-q", "-o", fresh, "--config", retiered, brown})
                .exit_code,
            0);
  auto tier_files = [](const std::string& out) {
    auto files = FilesUnder(out + "/tiers");
    std::erase_if(files, [](const auto& file) {
      return file.first.starts_with("done/");  // they name the signal files
    });
    return files;
  };
  // Killed at once, while the new files are written (a .next file
  // appears), and after the commit point (the new marker, done/*.next).
  const std::vector<std::string> kill_when = {
      "", "tiers/long/brown.jsonl.zst.next", "tiers/done/brown.next"};
  for (const std::string& sign : kill_when) {
    const std::string out = MakeTempDir() + "/out";
    fs::copy(first, out, fs::copy_options::recursive);
    const pid_t pid = StartNeedle(
        {"tune", "--run", out, "--config", retiered, "--write"}, MakeTempDir());
    int status = 0;
    bool ended = false;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(60);
    const fs::path sign_path = fs::path(out) / sign;
    while (!sign.empty() && !fs::exists(sign_path) &&
           std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid, &status, WNOHANG) == pid) {
        ended = true;  // done before the sign was seen: still a valid run
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (!ended) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
    }
    const NeedleResult again =
        RunNeedle({"tune", "--run", out, "--config", retiered, "--write"});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_TRUE(tier_files(out) == tier_files(fresh))
        << "killed when " << (sign.empty() ? "started" : sign) << " appeared";
  }
}

// Review: a sheet of 20 brown documents, verdicts filled in by a rule the
// test knows (keep what has at least 12000 characters), read back.
TEST(NeedleTest, ReviewExportsASheetAndImportsItsVerdicts) {
  const std::string out = MakeTempDir();
  ASSERT_EQ(
      RunNeedle({"run", "-q", "-o", out, "--config",
                 WriteConfig(TierConfig(R"("raw", "long: chars >= 12000")")),
                 SampleDir() + "/brown.jsonl"})
          .exit_code,
      0);
  const std::string dir = MakeTempDir();
  const NeedleResult exported =
      RunNeedle({"review", "export", "--run", out, "--tier", "raw", "-n", "20",
                 "--seed", "5", "-o", dir + "/sheet.csv"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_NE(exported.out.find("20 of 500 documents"), std::string::npos)
      << exported.out;

  CsvReader reader(ReadFile(dir + "/sheet.csv"));
  CsvRecord header;
  ASSERT_TRUE(reader.Next(&header));
  auto column = [&](const std::string& name) {
    const auto it = std::find(header.fields.begin(), header.fields.end(), name);
    EXPECT_NE(it, header.fields.end()) << name;
    return static_cast<size_t>(it - header.fields.begin());
  };
  const size_t chars = column("chars");
  const size_t tier = column("tier");
  const size_t verdict = column("verdict");
  std::string filled;
  size_t rows = 0, long_rows = 0;
  for (CsvRecord row; reader.Next(&row); ++rows) {
    const bool is_long = std::stol(row.fields[chars]) >= 12000;
    EXPECT_EQ(row.fields[tier], is_long ? "long" : "raw");
    long_rows += is_long;
    row.fields[verdict] = is_long ? "keep" : "Drop";
    for (size_t i = 0; i < row.fields.size(); ++i) {
      if (i > 0) filled += ',';
      AppendCsvField(row.fields[i], &filled);
    }
    filled += '\n';
  }
  ASSERT_EQ(rows, 20u);
  ASSERT_GT(long_rows, 0u);
  ASSERT_LT(long_rows, 20u);
  std::string header_line;
  for (const std::string& name : header.fields) {
    header_line += (header_line.empty() ? "" : ",") + name;
  }
  WriteFile(dir + "/filled.csv", header_line + "\n" + filled);
  const NeedleResult imported =
      RunNeedle({"review", "import", "--run", out, dir + "/filled.csv"});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  // The report shows the estimate at once: all long ones were kept.
  EXPECT_NE(imported.out.find("precision shown in " + out + "/report.html"),
            std::string::npos)
      << imported.out;
  const std::string long_row = "<tr><td>long</td><td>" +
                               std::to_string(long_rows) + "</td><td>" +
                               std::to_string(long_rows) + "</td><td>1.000";
  EXPECT_NE(ReadFile(out + "/report.html").find(long_row), std::string::npos);

  simdjson::dom::parser parser;
  simdjson::dom::element summary;
  ASSERT_EQ(parser.load(out + "/review/summary.json").get(summary),
            simdjson::SUCCESS);
  // Every reviewed document is in raw; only the long ones in long, and
  // the rule kept exactly those.
  simdjson::dom::element raw = summary["tiers"].at(0);
  simdjson::dom::element long_tier = summary["tiers"].at(1);
  EXPECT_EQ(uint64_t(raw["reviewed"]), 20u);
  EXPECT_EQ(uint64_t(raw["keep"]), long_rows);
  EXPECT_EQ(uint64_t(long_tier["reviewed"]), long_rows);
  EXPECT_EQ(double(long_tier["precision"]), 1.0);
  // chars decided every verdict: it separates perfectly.
  bool found = false;
  for (simdjson::dom::element signal : summary["signals"].get_array()) {
    if (std::string_view(signal["name"]) != "chars") continue;
    found = true;
    EXPECT_EQ(double(signal["auc"]), 1.0);
  }
  EXPECT_TRUE(found);

  // A verdict the import does not know: nothing stored, file and line said.
  WriteFile(dir + "/bad.csv", "id,verdict\nno-such-doc,keep\n");
  const NeedleResult bad =
      RunNeedle({"review", "import", "--run", out, dir + "/bad.csv"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err,
            dir +
                "/bad.csv:2: row 2: id 'no-such-doc' is not in this run's "
                "review sample (review/sample.jsonl); a sheet of "
                "another run?\n");
}

// What differs between any two runs of the same config: the stages' CPU
// times, the command line and the timing line.
std::string WithoutTimings(std::string run_json) {
  run_json =
      std::regex_replace(run_json, std::regex(R"("cpu_seconds":[0-9.]+)"), "");
  return std::regex_replace(run_json,
                            std::regex(R"re(\n"(command|timing)":.*)re"), "");
}

// Every step: stages, dedup and tiers (keep_fraction ranks across shards).
std::string StepsConfig() {
  return WriteConfig(
      "[pipeline]\nstages = [\"doc_length\", \"lang\"]\n"
      "[lang]\nlanguages = []\n[output]\nwrite_rejected = true\n"
      "[dedup]\nenabled = true\n"
      "[tiers]\nenabled = true\ntiers = [\"raw\", \"kept: reason == ok\", "
      "\"long: keep_fraction 0.5 by chars\"]\n");
}

TEST(NeedleTest, StepsOneAfterAnotherEqualOneRun) {
  const std::string config = StepsConfig();
  const std::string reference = MakeTempDir() + "/out";
  ASSERT_EQ(RunNeedle({"run", "-q", "-c", config, "-o", reference, SampleDir()})
                .exit_code,
            0);
  const std::string out = MakeTempDir() + "/out";
  for (const char* step :
       {"annotate", "cluster", "finalize", "tiers", "report"}) {
    const NeedleResult result = RunNeedle(
        {"step", step, "-q", "-c", config, "-o", out, "-t", "1", SampleDir()});
    ASSERT_EQ(result.exit_code, 0) << step << ": " << result.err;
  }
  // Nothing is below the first tier, "raw": no rejected/.
  for (const char* folder :
       {"tiers/raw", "tiers/kept", "tiers/long", "quarantine"}) {
    const auto files = FilesUnder(out + "/" + folder);
    EXPECT_FALSE(files.empty()) << folder;
    EXPECT_TRUE(files == FilesUnder(reference + "/" + folder)) << folder;
  }
  EXPECT_EQ(WithoutTimings(ReadFile(out + "/run.json")),
            WithoutTimings(ReadFile(reference + "/run.json")));
}

TEST(NeedleTest, StepTaskComesFromTheSlurmArrayIndex) {
  const std::string out = MakeTempDir() + "/out";
  setenv("SLURM_ARRAY_TASK_ID", "2", 1);
  const NeedleResult result = RunNeedle(
      {"step", "annotate", "-c", StepsConfig(), "-o", out, SampleDir()});
  unsetenv("SLURM_ARRAY_TASK_ID");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "needle: annotate udhr.jsonl.gz (task 2): done\n");
  EXPECT_TRUE(fs::exists(out + "/done/udhr.json"));
  EXPECT_FALSE(fs::exists(out + "/done/brown.json"));
}

TEST(NeedleTest, SlurmOptionsNeedTheSlurmExecutor) {
  const NeedleResult result =
      RunNeedle({"run", "--partition", "cpu", "-c",
                 std::string(NEEDLE_SOURCE_DIR) + "/configs/sample.toml", "-o",
                 MakeTempDir(), SampleDir()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err, "needle: --partition needs --executor slurm\n");
}

TEST(NeedleTest, StatusOfALocalRunSaysWhatItFollows) {
  const std::string out = MakeTempDir();
  const NeedleResult result = RunNeedle({"status", out});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err, "needle: " + out +
                            "/slurm/jobs.json: no such file; `needle status` "
                            "follows runs submitted with --executor slurm\n");
}

TEST(NeedleTest, SlurmDryRunPrintsTheSbatchCommands) {
  const std::string out = MakeTempDir() + "/out";
  const NeedleResult result =
      RunNeedle({"run", "--executor", "slurm", "--dry-run", "--cpus-per-task",
                 "4", "-c", StepsConfig(), "-o", out, SampleDir()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("annotate=$(sbatch --parsable --array=0-2 "),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("report=$(sbatch --parsable "
                            "--dependency=afterok:$tiers "),
            std::string::npos)
      << result.out;
  const std::string script = ReadFile(out + "/slurm/annotate.sbatch");
  EXPECT_NE(script.find("#SBATCH --cpus-per-task=4\n"), std::string::npos);
  EXPECT_NE(script.find(fs::canonical(NEEDLE_BINARY).string() +
                        " step annotate --config "),
            std::string::npos)
      << script;
}

}  // namespace
}  // namespace needle
