#include "pipeline/run.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>

#include "pipeline/shard.h"
#include "tests/test_util.h"

namespace needle {
namespace {

namespace fs = std::filesystem;
using testing::DataPath;
using testing::Decompressed;
using testing::Lines;
using testing::MakeTempDir;
using testing::ReadFile;
using testing::RequestFor;
using testing::SampleDir;
using testing::WriteFile;

RunConfig PlainConfig() {
  RunConfig config;
  config.output.codec = "none";
  config.pipeline.stages.clear();
  config.hash = "test-config";
  return config;
}

uint64_t CountOf(const ShardCounters& counters, Reason reason) {
  return counters.reasons[static_cast<int>(reason)];
}

// Every output file under `dir` but the shard records, whose CPU seconds
// differ from run to run: relative path -> contents.
std::map<std::string, std::string> OutputFiles(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const std::string relative = fs::relative(entry.path(), dir).string();
    if (!entry.is_regular_file() || relative.starts_with("done/") ||
        relative == "run.json") {
      continue;
    }
    files[relative] = ReadFile(entry.path().string());
  }
  return files;
}

TEST(RunTest, QuarantinesEachBadInputWithItsReasonAndKeepsTheRest) {
  RunConfig config = PlainConfig();
  config.input.max_line_bytes = 1000;
  std::vector<std::string> inputs;
  for (const char* name :
       {"bad_json.jsonl", "bad_utf8.jsonl", "missing_text.jsonl",
        "text_not_string.jsonl", "empty_text.jsonl", "long_line.jsonl",
        "truncated-gzip.jsonl.gz", "truncated-zstd.jsonl.zst"}) {
    inputs.push_back(DataPath(std::string("reader/") + name));
  }
  const std::string out = MakeTempDir();
  const RunOutcome outcome = RunPipeline(config, RequestFor(inputs, out));
  const ShardCounters& t = outcome.totals;
  EXPECT_EQ(CountOf(t, Reason::kBadJson), 1u);
  EXPECT_EQ(CountOf(t, Reason::kBadUtf8), 1u);
  EXPECT_EQ(CountOf(t, Reason::kMissingText), 1u);
  EXPECT_EQ(CountOf(t, Reason::kTextNotString), 1u);
  EXPECT_EQ(CountOf(t, Reason::kEmptyText), 1u);
  EXPECT_EQ(CountOf(t, Reason::kLineTooLong), 1u);
  EXPECT_EQ(CountOf(t, Reason::kTruncatedStream), 2u);
  EXPECT_EQ(t.quarantined, 8u);
  EXPECT_EQ(t.kept, 6u * 2 + 3 + 3);
  EXPECT_EQ(t.lines, t.blank_lines + t.docs + t.quarantined);

  const auto entries = Lines(ReadFile(out + "/quarantine/bad_utf8.jsonl"));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_TRUE(entries[0].starts_with(
      R"({"shard":"bad_utf8.jsonl","line":2,"offset":227,"reason":"bad_utf8")"))
      << entries[0];
  EXPECT_FALSE(fs::exists(out + "/quarantine/good.jsonl"));
  const auto kept = Lines(ReadFile(out + "/kept/bad_json.jsonl"));
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_TRUE(kept[1].starts_with(R"({"id": "brown-ca01-2", )"));
}

TEST(RunTest, PassesOriginalFieldsThroughAndAddsTheNeedleObject) {
  const std::string out = MakeTempDir();
  RunPipeline(PlainConfig(), RequestFor({DataPath("reader/good.jsonl")}, out));
  const auto input = Lines(ReadFile(DataPath("reader/good.jsonl")));
  const auto kept = Lines(ReadFile(out + "/kept/good.jsonl"));
  ASSERT_EQ(kept.size(), input.size());
  for (size_t i = 0; i < input.size(); ++i) {
    EXPECT_EQ(kept[i], input[i].substr(0, input[i].size() - 1) +
                           R"(,"needle":{"signals":{}}})");
  }
}

TEST(RunTest, PlainGzipAndZstdShardsGiveTheSameDocuments) {
  RunConfig config = PlainConfig();
  config.output.codec = "zstd";
  std::string expected;
  for (const char* name : {"good.jsonl", "good.jsonl.gz", "good.jsonl.zst"}) {
    const std::string out = MakeTempDir();
    RunPipeline(config,
                RequestFor({DataPath(std::string("reader/") + name)}, out));
    const std::string kept = Decompressed(out + "/kept/good.jsonl.zst");
    if (expected.empty()) expected = kept;
    EXPECT_EQ(kept, expected) << name;
  }
  EXPECT_EQ(Lines(expected).size(), 6u);
}

TEST(RunTest, GzipOutputReadsBack) {
  RunConfig config = PlainConfig();
  config.output.codec = "gzip";
  config.output.level = 6;
  const std::string out = MakeTempDir();
  RunPipeline(config, RequestFor({DataPath("reader/good.jsonl")}, out));
  EXPECT_EQ(Lines(Decompressed(out + "/kept/good.jsonl.gz")).size(), 6u);
}

// zstd(1) and gzip(1) reject a 0-byte .zst or .gz, so a shard with no kept
// document must still get a (empty) complete stream.
TEST(RunTest, AShardWithNothingKeptStillWritesADecodableFile) {
  const std::string in = MakeTempDir() + "/all_bad.jsonl";
  WriteFile(in, "{not json\n{\"text\": \"\"}\n");
  for (const auto& [codec, tester] :
       {std::pair{"zstd", "zstd -q -t"}, std::pair{"gzip", "gzip -t"}}) {
    RunConfig config = PlainConfig();
    config.output.codec = codec;
    const std::string out = MakeTempDir();
    const RunOutcome outcome = RunPipeline(config, RequestFor({in}, out));
    EXPECT_EQ(outcome.totals.kept, 0u);
    const std::string kept = out + "/kept/all_bad.jsonl" +
                             (std::string(codec) == "zstd" ? ".zst" : ".gz");
    EXPECT_GT(fs::file_size(kept), 0u) << codec;
    EXPECT_EQ(std::system((std::string(tester) + " " + kept).c_str()), 0)
        << codec;
    EXPECT_EQ(Decompressed(kept), "") << codec;
  }
}

TEST(RunTest, OutputIsByteIdenticalAtOneAndTwoThreads) {
  RunConfig config = PlainConfig();
  config.output.codec = "zstd";
  config.input.batch_bytes = 64 << 10;  // many batches per shard
  const std::string one = MakeTempDir();
  const std::string two = MakeTempDir();
  const RunOutcome a = RunPipeline(config, RequestFor({SampleDir()}, one, 1));
  const RunOutcome b = RunPipeline(config, RequestFor({SampleDir()}, two, 2));
  EXPECT_EQ(OutputFiles(one), OutputFiles(two));
  EXPECT_EQ(a.totals.kept, b.totals.kept);
  EXPECT_EQ(a.totals.reasons, b.totals.reasons);
  EXPECT_GT(a.totals.kept, 1000u);
}

TEST(RunTest, ResumeSkipsCompletedShardsAndRedoesTheRest) {
  RunConfig config = PlainConfig();
  config.output.codec = "zstd";
  const std::string out = MakeTempDir();
  RunPipeline(config, RequestFor({SampleDir()}, out));
  const auto complete = OutputFiles(out);

  // As a crash would leave it: one shard without its record, a half-written
  // temporary file, and a damaged output of the unfinished shard.
  fs::remove(out + "/done/mixed.json");
  WriteFile(out + "/kept/mixed.jsonl.zst", "half");
  WriteFile(out + "/kept/mixed.jsonl.zst.tmp", "partial");
  const RunOutcome resumed =
      RunPipeline(config, RequestFor({SampleDir()}, out));
  fs::remove(out + "/kept/mixed.jsonl.zst.tmp");

  EXPECT_EQ(resumed.shards, 3u);
  EXPECT_EQ(resumed.shards_resumed, 2u);
  EXPECT_EQ(OutputFiles(out), complete);
  const std::string run_json = ReadFile(out + "/run.json");
  EXPECT_NE(run_json.find("\"resumed\":true"), std::string::npos);
}

TEST(RunTest, ChangedConfigRedoesEveryShard) {
  RunConfig config = PlainConfig();
  const std::string out = MakeTempDir();
  RunPipeline(config, RequestFor({DataPath("reader/good.jsonl")}, out));
  config.hash = "another-config";
  const RunOutcome again =
      RunPipeline(config, RequestFor({DataPath("reader/good.jsonl")}, out));
  EXPECT_EQ(again.shards_resumed, 0u);
}

TEST(RunTest, ErrorRateAboveTheLimitIsReported) {
  RunConfig config = PlainConfig();
  RunRequest request =
      RequestFor({DataPath("reader/bad_json.jsonl")}, MakeTempDir());
  request.max_error_rate = 0.25;  // one of three lines is bad
  const RunOutcome outcome = RunPipeline(config, request);
  EXPECT_NEAR(outcome.error_rate, 1.0 / 3, 1e-9);
  EXPECT_TRUE(outcome.error_rate_exceeded);
  request.max_error_rate = 0.5;
  EXPECT_FALSE(RunPipeline(config, request).error_rate_exceeded);
}

TEST(RunTest, RunJsonRecordsInputsChecksumsAndCounts) {
  const std::string out = MakeTempDir();
  RunPipeline(PlainConfig(),
              RequestFor({DataPath("reader/good.jsonl.gz")}, out));
  const std::string run_json = ReadFile(out + "/run.json");
  EXPECT_NE(run_json.find(R"("name":"good.jsonl.gz")"), std::string::npos);
  EXPECT_NE(run_json.find(R"("codec":"gzip")"), std::string::npos);
  EXPECT_NE(run_json.find(R"("size_bytes":677)"), std::string::npos);
  EXPECT_NE(run_json.find(R"("hash":"test-config")"), std::string::npos);
  EXPECT_NE(run_json.find(R"("peak_rss_bytes":)"), std::string::npos);
}

TEST(RunTest, FindsShardsInDirectoriesAndGlobsAndRejectsNameClashes) {
  const std::string dir = MakeTempDir();
  WriteFile(dir + "/a/x.jsonl", "{\"text\":\"a\"}\n");
  WriteFile(dir + "/b/x.jsonl.gz", ReadFile(DataPath("reader/good.jsonl.gz")));
  WriteFile(dir + "/notes.txt", "not a shard\n");
  const std::vector<Shard> from_dir = FindShards({dir});
  ASSERT_EQ(from_dir.size(), 2u);
  EXPECT_EQ(from_dir[0].name, "a/x.jsonl");
  EXPECT_EQ(from_dir[1].stem, "b/x");
  EXPECT_EQ(FindShards({dir + "/a/*.jsonl"}).size(), 1u);
  // Found by glob or by name, both would be written as kept/x.jsonl.zst.
  EXPECT_THROW(FindShards({dir + "/*/x.jsonl*"}), std::runtime_error);
  EXPECT_THROW(FindShards({dir + "/a/x.jsonl", dir + "/b/x.jsonl.gz"}),
               std::runtime_error);
  EXPECT_THROW(FindShards({dir + "/nothing*.jsonl"}), std::runtime_error);
}

}  // namespace
}  // namespace needle
