// The data-budget report from a hand-written run.json
// (tests/data/report/run.json: 4 MB of stored input, 1.4M kept tokens) and
// the plan in tests/data/report/plan.toml.
#include "pipeline/report.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>

#include "pipeline/civil_date.h"
#include "tests/test_util.h"

namespace needle {
namespace {

namespace fs = std::filesystem;
using testing::DataPath;
using testing::MakeTempDir;
using testing::ReadFile;

BudgetConfig PlanConfig(const std::string& extra_corpus = "") {
  ConfigFile file = ConfigFile::Load(DataPath("report/plan.toml"));
  BudgetConfig config = ReadBudgetConfig(file);
  if (extra_corpus == "decompressed") {
    config.corpus.raw_bytes_measure = "decompressed";
  }
  return config;
}

// OUT with a copy of `fixture` as its run.json.
std::string RunDir(const std::string& fixture = "report/run.json") {
  std::string dir = MakeTempDir();
  fs::copy_file(DataPath(fixture), dir + "/run.json");
  return dir;
}

TEST(RunSummaryTest, WithoutTiersOneKeptTierSumsTheLanguagesKeptCounts) {
  const RunSummary run = ReadRunSummary(DataPath("report/run.json"));
  ASSERT_EQ(run.tiers.size(), 1u);
  const TierCounts& kept = run.tiers[0];
  EXPECT_EQ(kept.name, "kept");
  // de 150 + en 450 documents; 1.6 MB + 4.5 MB; 400K + 1M tokens.
  EXPECT_EQ(kept.docs, 600u);
  EXPECT_EQ(kept.bytes, 6'100'000u);
  EXPECT_EQ(kept.tokens, 1'400'000u);
  EXPECT_EQ(kept.from, "counts.languages.*.kept_docs, kept_bytes, kept_tokens");
  EXPECT_EQ(run.input_file_bytes, 4'000'000u);
  EXPECT_EQ(run.stages.size(), 4u);
  EXPECT_EQ(run.stages[1].docs_out, 650u);
}

TEST(RunSummaryTest, ReadsRunJsonTiersInFunnelOrder) {
  const RunSummary run = ReadRunSummary(DataPath("report/run-tiers.json"));
  ASSERT_EQ(run.tiers.size(), 2u);
  EXPECT_EQ(run.tiers[0].name, "loose");
  EXPECT_EQ(run.tiers[0].from, "tiers[0]");
  EXPECT_EQ(run.tiers[1].name, "strict");
  EXPECT_EQ(run.tiers[1].tokens, 500'000u);
  EXPECT_EQ(run.tiers[1].languages.at("en").docs, 200u);
  EXPECT_EQ(run.tiers[1].definition, "strict: loose and quality >= 0.9");
}

TEST(RunSummaryTest, ARunJsonWithoutCountsIsRejectedByName) {
  const std::string dir = MakeTempDir();
  testing::WriteFile(dir + "/run.json",
                     "{\"format\":\"needle.run/1\",\"version\":\"v\","
                     "\"config\":{\"path\":\"c\",\"hash\":\"h\","
                     "\"resolved\":\"\"},\"inputs\":[]}");
  try {
    ReadRunSummary(dir + "/run.json");
    FAIL() << "no error";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()),
              dir + "/run.json: not a needle run.json: no counts");
  }
}

TEST(ReportTest, SupplyIsTheTierScaledToTheWholeCrawl) {
  const Report report =
      BuildReport(ReadRunSummary(DataPath("report/run.json")), PlanConfig());
  // Stored input bytes 4e6; total_raw_bytes 4e13: x 1e7, so 1.4e6 kept
  // tokens stand for 1.4e13; 0.35 tokens per byte x 1e12 bytes a month.
  EXPECT_EQ(report.input_bytes, 4'000'000u);
  EXPECT_DOUBLE_EQ(report.scale, 1e7);
  ASSERT_EQ(report.tiers.size(), 1u);
  EXPECT_DOUBLE_EQ(report.tiers[0].tokens_per_input_byte, 0.35);
  EXPECT_DOUBLE_EQ(report.tiers[0].supply.tokens, 1.4e13);
  EXPECT_DOUBLE_EQ(report.tiers[0].supply.tokens_per_month, 3.5e11);
  // D = 1.4e13 seen once, N = D / 20.
  EXPECT_DOUBLE_EQ(report.tiers[0].largest_model.params, 7e11);

  // Against decompressed bytes (1e7): x 4e6, 0.14 tokens per byte.
  const Report decompressed = BuildReport(
      ReadRunSummary(DataPath("report/run.json")), PlanConfig("decompressed"));
  EXPECT_DOUBLE_EQ(decompressed.scale, 4e6);
  EXPECT_DOUBLE_EQ(decompressed.tiers[0].supply.tokens, 5.6e12);
}

TEST(ReportTest, ThePlanRunsShortAtItsThirdRun) {
  const Report report =
      BuildReport(ReadRunSummary(DataPath("report/run.json")), PlanConfig());
  ASSERT_EQ(report.budgets.size(), 1u);
  const TierBudget& kept = report.budgets[0];
  // A needs 1.4e12 and B 3.84e25 / (6 x 4e11) = 1.6e13, both under the
  // 1.4e13 + 3.5e11 a month there by then; C needs 6e13 on 2029-01-01
  // (1096 days on) and has 1.4e13 + 3.5e11 x 36.01 = 2.66e13.
  ASSERT_EQ(kept.runs.size(), 3u);
  EXPECT_GT(kept.runs[0].surplus, 0);
  EXPECT_DOUBLE_EQ(kept.runs[1].need, 1.6e13);
  EXPECT_GT(kept.runs[1].surplus, 0);
  EXPECT_NEAR(kept.runs[2].supply, 1.4e13 + 3.5e11 * 1096 / 30.436875, 1);
  EXPECT_EQ(kept.first_short_run, 2u);
  EXPECT_EQ(kept.crossing, DaysFromDate("2029-01-01"));
  // C's 4.6e13 missing tokens take 131.43 months = 4000.3 days: day 4001.
  EXPECT_EQ(kept.runs[2].enough_from, DaysFromDate("2036-12-15"));
}

TEST(ReportTest, FilesAreByteIdenticalAcrossRuns) {
  const std::string one = RunDir();
  const std::string two = RunDir();
  WriteReport(one, PlanConfig());
  WriteReport(two, PlanConfig());
  WriteReport(two, PlanConfig());  // rewritten over itself
  for (const char* name : {"report.json", "report.md", "report.html"}) {
    const std::string bytes = ReadFile(one + "/" + name);
    EXPECT_FALSE(bytes.empty()) << name;
    EXPECT_TRUE(bytes == ReadFile(two + "/" + name)) << name << " differs";
  }
}

TEST(ReportTest, JsonIsVersionedAndNamesTheSourceOfEachCount) {
  const std::string dir = RunDir("report/run-tiers.json");
  WriteReport(dir, PlanConfig());
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.load(dir + "/report.json");
  EXPECT_EQ(std::string_view(root["format"]), "needle.report/1");
  EXPECT_EQ(std::string_view(root["run"]["config"]["hash"]),
            "0123456789abcdef");
  EXPECT_EQ(std::string_view(root["run"]["inputs"].at(1)["xxh3"]),
            "00000000000000bb");
  simdjson::dom::array tiers = root["tiers"];
  ASSERT_EQ(tiers.size(), 2u);
  EXPECT_EQ(std::string_view(tiers.at(1)["from"]), "tiers[1]");
  EXPECT_EQ(uint64_t(tiers.at(1)["tokens"]), 500'000u);
  // strict: 5e5 x 1e7 = 5e12 today; C (6e13) is short, and so is B
  // (1.6e13 against 5e12 + 1.25e11 x 23.98 = 8.0e12).
  EXPECT_EQ(std::string_view(tiers.at(1)["first_short_run"]["name"]), "B");
  EXPECT_EQ(std::string_view(tiers.at(1)["demand_exceeds_supply_from"]),
            "2028-01-01");
  simdjson::dom::array funnel = root["funnel"];
  EXPECT_EQ(std::string_view(funnel.at(3)["from"]),
            "counts.stages[1].docs_out");
  EXPECT_EQ(uint64_t(funnel.at(3)["docs"]), 650u);
}

TEST(ReportTest, HtmlIsOnePageThatFetchesNothingAndMarksTheShortfall) {
  const std::string dir = RunDir();
  WriteReport(dir, PlanConfig());
  const std::string html = ReadFile(dir + "/report.html");
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find(" src="), std::string::npos);
  EXPECT_EQ(html.find(" href="), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_NE(html.find("short from 2029-01-01"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  const std::string md = ReadFile(dir + "/report.md");
  EXPECT_NE(md.find("| kept | 600 | 1,400,000 | 14.0T |"), std::string::npos)
      << md;
  EXPECT_NE(md.find("C (2029-01-01)"), std::string::npos);
}

TEST(ReportTest, WithoutADemandTheReportShowsSupplyOnly) {
  const std::string dir = RunDir();
  const Report report = WriteReport(dir, BudgetConfig());
  EXPECT_FALSE(report.demand);
  EXPECT_TRUE(report.budgets.empty());
  // No total_raw_bytes: the run is the corpus.
  EXPECT_DOUBLE_EQ(report.tiers[0].supply.tokens, 1.4e6);
  EXPECT_NE(ReadFile(dir + "/report.md").find("supply only"),
            std::string::npos);
}

TEST(ReportTest, ARunWithoutTokensOrLanguagesSaysSo) {
  const std::string dir = MakeTempDir();
  std::string json = ReadFile(DataPath("report/run.json"));
  // Drop the tokens stage and the languages: counts.kept alone remains.
  json.replace(
      json.find("  {\"name\":\"tokens\""),
      json.find("  {\"name\":\"dedup\"") - json.find("  {\"name\":\"tokens\""),
      "");
  json.replace(
      json.find(",\n \"languages\""),
      json.find("}}},\n\"dedup\"") + 2 - json.find(",\n \"languages\""), "");
  testing::WriteFile(dir + "/run.json", json);
  const Report report = WriteReport(dir, BudgetConfig());
  ASSERT_EQ(report.tiers.size(), 1u);
  EXPECT_EQ(report.tiers[0].counts.docs, 600u);  // counts.kept
  EXPECT_EQ(report.tiers[0].counts.tokens, 0u);
  ASSERT_EQ(report.warnings.size(), 2u);
  EXPECT_NE(report.warnings[0].find("no tokens stage"), std::string::npos);
  EXPECT_NE(report.warnings[1].find("no lang stage"), std::string::npos);
}

}  // namespace
}  // namespace needle
