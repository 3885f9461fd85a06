// The review loop's estimates in the data-budget report: `needle review
// import` rebuilds report.html (.md, .json) at once with each tier's
// precision, its 95% interval and the separating signals.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pipeline/config.h"
#include "pipeline/report.h"
#include "pipeline/review.h"
#include "pipeline/run.h"
#include "tests/pipeline/tier_fixture.h"
#include "tests/test_util.h"

namespace needle {
namespace {

using testing::MakeTempDir;
using testing::ReadFile;
using testing::RequestFor;
using testing::WriteFile;
using tier_fixture::TierConfig;
using tier_fixture::WriteShards;

// The normal distribution's 97.5% quantile, by bisection on its CDF.
double NormalQuantile975() {
  double low = 0, high = 5;
  for (int i = 0; i < 200; ++i) {
    const double mid = (low + high) / 2;
    (0.5 * std::erfc(-mid / std::sqrt(2.0)) < 0.975 ? low : high) = mid;
  }
  return low;
}

// The report's row for a tier: precision k/n and its Wilson score
// interval, (p + z²/2n ± z √(p(1-p)/n + z²/4n²)) / (1 + z²/n).
std::string ExpectedRow(const std::string& tier, int kept, int reviewed) {
  const double z = NormalQuantile975();
  const double n = reviewed;
  const double p = kept / n;
  const double center = p + z * z / (2 * n);
  const double spread = z * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n));
  const double low = std::max(0.0, (center - spread) / (1 + z * z / n));
  const double high = std::min(1.0, (center + spread) / (1 + z * z / n));
  return fmt::format(
      "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.3f}</td>"
      "<td>[{:.3f}, {:.3f}]</td></tr>",
      tier, reviewed, kept, p, low, high);
}

// TierConfig as a config file would give it: review reads [tiers] from the
// resolved text, and the report's budget config is resolved as it would be
// from a file.
RunConfig ReviewedConfig() {
  RunConfig config = TierConfig();
  config.resolved_toml = "[tiers]\nenabled = true\n";
  ConfigFile file = ConfigFile::Parse("", "run.toml");
  config.budget = ReadBudgetConfig(file);
  return config;
}

TEST(ReviewReportTest, ImportShowsEachTiersPrecisionInTheReport) {
  const std::string in = WriteShards();
  const std::string out = MakeTempDir();
  RunPipeline(ReviewedConfig(), RequestFor({in}, out));
  const std::string markdown_before = ReadFile(out + "/report.md");
  ASSERT_EQ(ReadFile(out + "/report.html").find("Review"), std::string::npos);

  // All 12 documents; the highest tiers are raw: d3 d10, automatic: d2 d8,
  // amateur: d4 d6 d7 d9 d11 d12, expert: d1 d5 (tier_fixture.h).
  const std::string dir = MakeTempDir();
  ReviewExportRequest request;
  request.run_dir = out;
  request.tier = "raw";
  request.sheet_path = dir + "/exported.csv";
  request.count = 100;
  ASSERT_EQ(ExportReviewSheet(request).sampled, 12u);
  const std::set<std::string> kept = {"d1", "d4", "d5", "d6",
                                      "d7", "d9", "d12"};
  std::string sheet = "id,verdict\r\n";
  for (int id = 1; id <= 12; ++id) {
    const std::string name = fmt::format("d{}", id);
    sheet += name + (kept.count(name) ? ",keep\r\n" : ",drop\r\n");
  }
  WriteFile(dir + "/sheet.csv", sheet);
  const ReviewImportResult result =
      ImportReviewSheet(out, dir + "/sheet.csv", "sheet.csv");
  ASSERT_EQ(result.errors, std::vector<std::string>{});
  EXPECT_TRUE(result.report_rewritten);

  // Members of a tier are its documents and those of every tier above.
  const std::string html = ReadFile(out + "/report.html");
  EXPECT_NE(html.find("<h2>Review: precision by tier</h2>"), std::string::npos);
  EXPECT_NE(html.find(ExpectedRow("raw", 7, 12)), std::string::npos)
      << ExpectedRow("raw", 7, 12);
  EXPECT_NE(html.find(ExpectedRow("automatic", 7, 10)), std::string::npos);
  EXPECT_NE(html.find(ExpectedRow("amateur", 7, 8)), std::string::npos)
      << ExpectedRow("amateur", 7, 8);
  EXPECT_NE(html.find(ExpectedRow("expert", 2, 2)), std::string::npos);
  // Every kept score (0.6 and up) exceeds every dropped one (0.55 at
  // most): 21 of 21 pairs, AUC 1; the spam documents have no score.
  EXPECT_NE(html.find("<tr><td>quality_score</td><td>1.000</td>"),
            std::string::npos);
  EXPECT_NE(html.find("<title>Precision by tier, with 95% intervals</title>"),
            std::string::npos);

  // The rest of the report is rebuilt as it was, with the same budget
  // config: only the review section is new.
  std::string markdown = ReadFile(out + "/report.md");
  const size_t begin = markdown.find("\n## Review: precision by tier\n");
  ASSERT_NE(begin, std::string::npos);
  const size_t end = markdown.find("\n## ", begin + 1);
  markdown.erase(begin, end - begin);
  EXPECT_EQ(markdown, markdown_before);
  EXPECT_NE(
      ReadFile(out + "/report.json").find("\"file\": \"review/summary.json\""),
      std::string::npos);
}

TEST(ReviewReportTest, ImportWithoutAReportLeavesNoneBehind) {
  const std::string in = WriteShards();
  const std::string out = MakeTempDir();
  RunPipeline(ReviewedConfig(), RequestFor({in}, out));
  std::filesystem::remove(out + "/report.json");
  std::filesystem::remove(out + "/report.html");
  ReviewExportRequest request;
  request.run_dir = out;
  request.tier = "expert";
  request.sheet_path = MakeTempDir() + "/sheet.csv";
  ExportReviewSheet(request);
  WriteFile(request.sheet_path, "id,verdict\r\nd1,keep\r\n");
  const ReviewImportResult result =
      ImportReviewSheet(out, request.sheet_path, "sheet.csv");
  ASSERT_EQ(result.errors, std::vector<std::string>{});
  EXPECT_FALSE(result.report_rewritten);
  EXPECT_FALSE(std::filesystem::exists(out + "/report.html"));
}

TEST(ReviewReportTest, SummaryReadsBackAsWritten) {
  ReviewSummary summary;
  summary.reviewed = 3;
  summary.keep = 2;
  summary.drop = 1;
  summary.tiers.push_back({"raw", 3, 2, 2.0 / 3, 0.2077, 0.9385});
  const double none = std::numeric_limits<double>::quiet_NaN();
  summary.tiers.push_back({"top", 0, 0, none, none, none});
  summary.signals.push_back({"score", 2, 1, 0.5, 0.25, 1.0});
  const std::string out = MakeTempDir();
  EXPECT_EQ(ReadReviewSummary(out), std::nullopt);
  WriteFile(ReviewSummaryJsonPath(out), ReviewSummaryJson(summary));
  const std::optional<ReviewSummary> read = ReadReviewSummary(out);
  ASSERT_TRUE(read);
  EXPECT_EQ(ReviewSummaryJson(*read), ReviewSummaryJson(summary));
  EXPECT_TRUE(std::isnan(read->tiers[1].precision));
  WriteFile(ReviewSummaryJsonPath(out), "{\"format\":\"other\"}");
  EXPECT_THROW(ReadReviewSummary(out), std::runtime_error);
}

}  // namespace
}  // namespace needle
