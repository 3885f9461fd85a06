// `needle budget` and `needle sample` as a user runs them, and the report
// that every `needle run` leaves beside run.json.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/test_util.h"
#include "tests/tools/run_needle.h"

namespace needle {
namespace {

namespace fs = std::filesystem;
using testing::DataPath;
using testing::Lines;
using testing::MakeTempDir;
using testing::NeedleResult;
using testing::ReadFile;
using testing::RunNeedleLine;
using testing::SampleDir;
using testing::WriteFile;

std::string SampleConfig() {
  return std::string(NEEDLE_SOURCE_DIR) + "/configs/sample.toml";
}

// One run of configs/sample.toml over the sample shards, shared by the
// tests that only read its OUT.
const std::string& SampleRun() {
  static const std::string* out = [] {
    auto* dir = new std::string(MakeTempDir() + "/out");
    const NeedleResult run = RunNeedleLine("run -q -c " + SampleConfig() +
                                           " -o " + *dir + " " + SampleDir());
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return dir;
  }();
  return *out;
}

TEST(BudgetCommandTest, RecomputesTheReportFromRunJsonAlone) {
  // tests/data/report/: 1.4M kept tokens in 4 MB, scaled x 1e7; run C
  // (60T on 2029-01-01) is the first the supply cannot cover.
  const std::string out = MakeTempDir();
  fs::copy_file(DataPath("report/run.json"), out + "/run.json");
  const NeedleResult result = RunNeedleLine(
      "budget --run " + out + " --config " + DataPath("report/plan.toml"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out,
            "needle: tier kept: 14.0T unique tokens on 2026-01-01; first "
            "short run C (2029-01-01); demand exceeds supply from "
            "2029-01-01\nneedle: report in " +
                out + "/report.html, " + out + "/report.md and " + out +
                "/report.json\n");
  for (const char* name : {"report.json", "report.md", "report.html"}) {
    EXPECT_TRUE(fs::exists(out + "/" + name)) << name;
  }
}

TEST(BudgetCommandTest, AMalformedPlanEntryStopsItWithTheEntrysLine) {
  const std::string out = MakeTempDir();
  fs::copy_file(DataPath("report/run.json"), out + "/run.json");
  const std::string config = MakeTempDir() + "/plan.toml";
  WriteFile(config,
            "[corpus]\nas_of = 2026-01-01\n\n[budget]\ndemand = \"plan\"\n\n"
            "[[budget.runs]]\nname = \"x\"\ndate = 2027-01-01\nparams = 7e10\n"
            "tokens = 1.4e12\nflops = 5.88e23\n");
  const NeedleResult result =
      RunNeedleLine("budget --run " + out + " --config " + config);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err, "needle: " + config +
                            ":7:1: planned run 'x': give tokens or flops, "
                            "not both\n");
  EXPECT_FALSE(fs::exists(out + "/report.json"));
}

TEST(BudgetCommandTest, RunWritesTheReportAndBudgetRebuildsItByteForByte) {
  const std::string& out = SampleRun();
  std::map<std::string, std::string> written;
  for (const char* name : {"report.json", "report.md", "report.html"}) {
    written[name] = ReadFile(out + "/" + name);
  }
  EXPECT_NE(written["report.md"].find("frontier-2029"), std::string::npos);
  const NeedleResult result =
      RunNeedleLine("budget --run " + out + " --config " + SampleConfig());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  for (const auto& [name, bytes] : written) {
    EXPECT_TRUE(ReadFile((fs::path(out) / name).string()) == bytes)
        << name << " differs";
  }
}

TEST(BudgetCommandTest, ANewPlanInTheRunConfigRedoesNoShard) {
  const std::string input = MakeTempDir() + "/in.jsonl";
  WriteFile(input, "{\"text\":\"one document\"}\n");
  const std::string out = MakeTempDir() + "/out";
  const std::string before = MakeTempDir() + "/run.toml";
  WriteFile(before, "[doc_length]\nmin_chars = 1\n");
  ASSERT_EQ(
      RunNeedleLine("run -c " + before + " -o " + out + " " + input).exit_code,
      0);
  const std::string after = MakeTempDir() + "/run.toml";
  WriteFile(after,
            "[doc_length]\nmin_chars = 1\n[corpus]\nas_of = 2026-01-01\n"
            "[budget]\ndemand = \"plan\"\n[[budget.runs]]\nname = \"next\"\n"
            "date = 2027-01-01\nparams = 1e9\ntokens = 2e10\n");
  const NeedleResult result =
      RunNeedleLine("run -c " + after + " -o " + out + " " + input);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("1 shards (1 resumed)"), std::string::npos)
      << result.out;
  EXPECT_NE(ReadFile(out + "/report.md").find("| next | 2027-01-01 |"),
            std::string::npos);
}

TEST(SampleCommandTest, PrintsRejectedDocumentsOfAReasonInFileOrder) {
  const std::string& out = SampleRun();
  const std::string args =
      "sample --run " + out + " --reason too_short -n 2 --seed 7";
  const NeedleResult result = RunNeedleLine(args);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::vector<std::string> lines = Lines(result.out);
  ASSERT_EQ(lines.size(), 2u);
  for (const std::string& line : lines) {
    EXPECT_NE(line.find("\"reason\":\"too_short\""), std::string::npos) << line;
  }
  // The sample run rejects 3 documents as too_short (README).
  EXPECT_EQ(result.err, "needle: 2 of 3 too_short documents in " + out +
                            "/rejected/ (run.json counts 3), seed 7\n");
  EXPECT_EQ(RunNeedleLine(args).out, result.out);  // the same seed, the same
  EXPECT_EQ(
      Lines(RunNeedleLine("sample --run " + out + " --reason too_short").out)
          .size(),
      3u);
}

TEST(SampleCommandTest, ReadsTheQuarantineForInputFaults) {
  const NeedleResult result =
      RunNeedleLine("sample --run " + SampleRun() + " --reason bad_utf8");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  ASSERT_EQ(Lines(result.out).size(), 1u);
  EXPECT_NE(result.out.find("\"reason\":\"bad_utf8\""), std::string::npos);
  EXPECT_NE(result.out.find("\"raw_base64\""), std::string::npos);
}

TEST(SampleCommandTest, SaysWhenRejectedDocumentsWereNotWritten) {
  const std::string input = MakeTempDir() + "/in.jsonl";
  WriteFile(input, "{\"text\":\"short\"}\n{\"text\":\"tiny\"}\n");
  const std::string config = MakeTempDir() + "/run.toml";
  WriteFile(config, "[doc_length]\nmin_chars = 100\n");
  const std::string out = MakeTempDir() + "/out";
  ASSERT_EQ(RunNeedleLine("run -q -c " + config + " -o " + out + " " + input)
                .exit_code,
            0);
  const NeedleResult result =
      RunNeedleLine("sample --run " + out + " --reason too_short");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err,
            "needle: " + out +
                "/run.json counts 2 too_short documents, but the run did not "
                "write rejected documents ([output] write_rejected = false); "
                "run it again with write_rejected = true to see them\n");
}

TEST(SampleCommandTest, NamesTheClosestReasonOrSaysTheRunCountedNone) {
  const std::string& out = SampleRun();
  NeedleResult result =
      RunNeedleLine("sample --run " + out + " --reason too_shrt");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err,
            "needle: unknown reason 'too_shrt'; did you mean 'too_short'?\n");
  result = RunNeedleLine("sample --run " + out + " --reason too_long");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err, "needle: " + out +
                            "/run.json counts no too_long documents "
                            "(counts.reasons)\n");
}

}  // namespace
}  // namespace needle
