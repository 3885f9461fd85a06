// [corpus] and [budget]: what a plan may say, and how a wrong one is told.
#include "pipeline/budget_options.h"

#include <gtest/gtest.h>

#include "pipeline/civil_date.h"
#include "tests/test_util.h"

namespace needle {
namespace {

using testing::MakeTempDir;
using testing::WriteFile;

// Reads [corpus] and [budget] of `toml` (from a file named plan.toml); on a
// ConfigError, returns its message without the directory.
std::string ErrorFor(const std::string& toml, BudgetConfig* config = nullptr) {
  const std::string path = MakeTempDir() + "/plan.toml";
  WriteFile(path, toml);
  try {
    ConfigFile file = ConfigFile::Load(path);
    BudgetConfig read = ReadBudgetConfig(file);
    if (config != nullptr) *config = read;
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    return message.substr(path.rfind('/') + 1);
  }
  return "no error";
}

constexpr const char* kCorpus = "[corpus]\nas_of = 2026-01-01\n\n";

TEST(BudgetOptionsTest, ReadsAPlanAndTurnsFlopsIntoTokens) {
  BudgetConfig config;
  ASSERT_EQ(ErrorFor(std::string(kCorpus) +
                         "[budget]\ndemand = \"plan\"\nmax_epochs = 4\n\n"
                         "[[budget.runs]]\nname = \"chinchilla\"\n"
                         "date = 2027-01-01\nparams = 70e9\nflops = 5.88e23\n",
                     &config),
            "no error");
  const BudgetInput input = MakeBudgetInput(config);
  ASSERT_EQ(input.runs.size(), 1u);
  // 5.88e23 / (6 x 70e9) = 1.4e12.
  EXPECT_NEAR(input.runs[0].tokens / 1.4e12, 1.0, 1e-12);
  EXPECT_EQ(input.runs[0].day, DaysFromDate("2027-01-01"));
  EXPECT_EQ(input.as_of, DaysFromDate("2026-01-01"));
  // Ten years past as_of by default.
  EXPECT_EQ(input.horizon_end, DaysFromDate("2036-01-01"));
  EXPECT_EQ(input.repetition.max_epochs, 4);
  EXPECT_EQ(config.resolved_toml.rfind("# The crawl", 0), 0u);
  EXPECT_EQ(config.hash.size(), 16u);
}

TEST(BudgetOptionsTest, MalformedPlanEntriesAreRejectedWithTheirLine) {
  const std::string head = std::string(kCorpus) +
                           "[budget]\ndemand = \"plan\"\n\n"
                           "[[budget.runs]]\nname = \"ok\"\ndate = 2027-01-01\n"
                           "params = 1e9\ntokens = 2e10\n\n";
  // The second [[budget.runs]] is on line 13.
  EXPECT_EQ(ErrorFor(head + "[[budget.runs]]\nname = \"both\"\n"
                            "date = 2028-01-01\nparams = 1e9\ntokens = 2e10\n"
                            "flops = 1e20\n"),
            "plan.toml:13:1: planned run 'both': give tokens or flops, not "
            "both");
  EXPECT_EQ(ErrorFor(head + "[[budget.runs]]\nname = \"none\"\n"
                            "date = 2028-01-01\nparams = 1e9\n"),
            "plan.toml:13:1: planned run 'none': give tokens or flops");
  EXPECT_EQ(ErrorFor(head + "[[budget.runs]]\nname = \"small\"\n"
                            "date = 2028-01-01\ntokens = 2e10\n"),
            "plan.toml:13:1: planned run 'small': no params (the model's "
            "parameters)");
  EXPECT_EQ(ErrorFor(head + "[[budget.runs]]\nname = \"undated\"\n"
                            "params = 1e9\ntokens = 2e10\n"),
            "plan.toml:13:1: planned run 'undated': no date (YYYY-MM-DD)");
  EXPECT_EQ(ErrorFor(head + "[[budget.runs]]\ndate = 2028-01-01\n"),
            "plan.toml:13:1: planned run 2 has no name");
  EXPECT_EQ(ErrorFor(head + "[[budget.runs]]\nname = \"ok\"\n"
                            "date = 2028-01-01\nparams = 1e9\ntokens = 2e10\n"),
            "plan.toml:13:1: planned run 'ok': the name is used twice");
  EXPECT_EQ(ErrorFor(head + "[[budget.runs]]\nname = \"neg\"\n"
                            "date = 2028-01-01\nparams = -1\n"),
            "plan.toml:16:10: expected a number from 0 to 1e+30 for params, "
            "got integer -1");
  EXPECT_EQ(ErrorFor(head + "[[budget.runs]]\nname = \"x\"\n"
                            "date = \"2028-02-30\"\n"),
            "plan.toml:15:8: expected a date YYYY-MM-DD for date, got string "
            "\"2028-02-30\"");
}

TEST(BudgetOptionsTest, ADemandNeedsTheDateTheSupplyIsMeasuredOn) {
  EXPECT_EQ(ErrorFor("[budget]\ndemand = \"plan\"\n"),
            "plan.toml:2:10: demand = \"plan\" needs [corpus] as_of, the date "
            "the supply is measured on");
  EXPECT_EQ(ErrorFor(std::string(kCorpus) + "[budget]\ndemand = \"plan\"\n"),
            "plan.toml:5:10: demand = \"plan\" needs at least one "
            "[[budget.runs]] table");
}

TEST(BudgetOptionsTest, AGrowthRuleNeedsItsBaseRun) {
  EXPECT_EQ(ErrorFor(std::string(kCorpus) +
                     "[budget]\ndemand = \"growth\"\nbase_flops = 1e24\n"),
            "plan.toml:5:10: demand = \"growth\" needs base_date, the base "
            "run's date");
  EXPECT_EQ(ErrorFor(std::string(kCorpus) +
                     "[budget]\ndemand = \"growth\"\nbase_date = 2025-01-01\n"
                     "base_params = 1e9\n"),
            "plan.toml:5:10: demand = \"growth\" needs the base run's compute: "
            "base_flops, or base_params and base_tokens");
  BudgetConfig config;
  ASSERT_EQ(ErrorFor(std::string(kCorpus) +
                         "[budget]\ndemand = \"growth\"\nhorizon_years = 3\n"
                         "base_date = 2025-06-01\nbase_params = 70e9\n"
                         "base_tokens = 1.4e12\n",
                     &config),
            "no error");
  const BudgetInput input = MakeBudgetInput(config);
  ASSERT_TRUE(input.growth);
  EXPECT_NEAR(input.growth->base_flops / 5.88e23, 1.0, 1e-12);
  // Anniversaries of 2025-06-01 from 2026-01-01 to 2029-01-01.
  ASSERT_EQ(input.runs.size(), 3u);
  EXPECT_EQ(input.runs[0].name, "base +1y");
  EXPECT_EQ(input.runs[2].day, DaysFromDate("2028-06-01"));
}

TEST(BudgetOptionsTest, NoDemandNeedsNothingElse) {
  BudgetConfig config;
  EXPECT_EQ(ErrorFor("", &config), "no error");
  EXPECT_FALSE(config.has_demand());
}

}  // namespace
}  // namespace needle
