// ConfigSection's arrays of tables ([[plan.runs]]), dates and Where().
#include <gtest/gtest.h>

#include "pipeline/config.h"
#include "tests/test_util.h"

namespace needle {
namespace {

using testing::MakeTempDir;
using testing::WriteFile;

struct RunItem {
  std::string name;
  double tokens = 0;
  std::string date;

  void Visit(ConfigSection& s) {
    s.Field("name", &name, "Name.");
    s.Field("tokens", &tokens, "Tokens.", 0, 1e30);
    s.Date("date", &date, "Date.");
  }
};

struct PlanOptions {
  int horizon = 10;
  std::vector<RunItem> runs;
  std::string where_runs;  // Where("runs"), taken after reading

  void Visit(ConfigSection& s) {
    s.Tables("runs", &runs, "Runs.");
    s.Field("horizon", &horizon, "Horizon.");
    where_runs = s.Where("runs");
  }
};

struct Outcome {
  PlanOptions options;
  std::string resolved_or_error;
};

// Reads [plan] of `toml`: the options and the resolved TOML, or the error
// with the temporary directory cut off.
Outcome ReadPlan(const std::string& toml) {
  const std::string path = MakeTempDir() + "/run.toml";
  WriteFile(path, toml);
  Outcome outcome;
  try {
    ConfigFile file = ConfigFile::Load(path);
    file.Read("plan", "Plan", &outcome.options);
    outcome.resolved_or_error = file.resolved_toml();
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    outcome.resolved_or_error = message.substr(path.rfind('/') + 1);
  }
  const std::string dir = path.substr(0, path.rfind('/') + 1);
  if (outcome.options.where_runs.starts_with(dir)) {
    outcome.options.where_runs.erase(0, dir.size());
  }
  return outcome;
}

TEST(ConfigTablesTest, ReadsEachElementAsASectionOfItsOwn) {
  const Outcome outcome = ReadPlan(
      "[plan]\nhorizon = 3\n\n[[plan.runs]]\nname = \"a\"\ntokens = 1e12\n"
      "date = 2027-06-01\n\n[[plan.runs]]\nname = \"b\"\n"
      "date = \"2028-01-31\"\n");
  const PlanOptions& plan = outcome.options;
  EXPECT_EQ(plan.horizon, 3);
  ASSERT_EQ(plan.runs.size(), 2u) << outcome.resolved_or_error;
  EXPECT_EQ(plan.runs[0].name, "a");
  EXPECT_EQ(plan.runs[0].tokens, 1e12);
  EXPECT_EQ(plan.runs[0].date, "2027-06-01");
  EXPECT_EQ(plan.runs[1].name, "b");
  EXPECT_EQ(plan.runs[1].tokens, 0);  // the Item's default
  EXPECT_EQ(plan.runs[1].date, "2028-01-31");
  EXPECT_EQ(plan.where_runs, "run.toml:4:1");  // the first [[plan.runs]]
}

TEST(ConfigTablesTest, ResolvedConfigListsElementsAfterThePlainKeys) {
  // TOML puts a section's plain keys before its [[arrays]], so the
  // elements move to the end whatever Visit's order; dates stay unquoted.
  EXPECT_EQ(ReadPlan("[[plan.runs]]\nname = \"a\"\ndate = 2027-06-01\n")
                .resolved_or_error,
            "# Plan\n[plan]\n# Horizon.\nhorizon = 10\n# Runs.\n"
            "[[plan.runs]]\n# Name.\nname = \"a\"\n# Tokens.\ntokens = 0.0\n"
            "# Date.\ndate = 2027-06-01\n");
}

TEST(ConfigTablesTest, NoElementsShowACommentedOutExample) {
  const std::string expected =
      "# Plan\n[plan]\n# Horizon.\nhorizon = 10\n# Runs.\n"
      "# [[plan.runs]]\n# # Name.\n# name = \"\"\n# # Tokens.\n"
      "# tokens = 0.0\n# # Date.\n# date = \"\"\n";
  EXPECT_EQ(ReadPlan("").resolved_or_error, expected);
  EXPECT_EQ(ReadPlan("[plan]\nruns = []\n").resolved_or_error, expected);
}

TEST(ConfigTablesTest, UnknownKeyInAnElementNamesItsLineAndTable) {
  EXPECT_EQ(ReadPlan("[plan]\n\n[[plan.runs]]\nname = \"a\"\n\n"
                     "[[plan.runs]]\nname = \"b\"\ntokns = 5\n")
                .resolved_or_error,
            "run.toml:8:1: unknown key 'tokns' in [[plan.runs]]; did you "
            "mean 'tokens'?");
}

TEST(ConfigTablesTest, WrongTypeInAnElementPointsAtTheValue) {
  EXPECT_EQ(ReadPlan("[[plan.runs]]\nname = \"a\"\ntokens = \"many\"\n")
                .resolved_or_error,
            "run.toml:3:10: expected a number from 0 to 1e+30 for tokens, got "
            "string \"many\"");
}

TEST(ConfigTablesTest, AnythingButAnArrayOfTablesIsRejected) {
  EXPECT_EQ(ReadPlan("[plan]\nruns = [1]\n").resolved_or_error,
            "run.toml:2:9: expected an array of tables, [[plan.runs]] for "
            "runs, got integer 1");
  EXPECT_EQ(ReadPlan("[plan]\nruns = \"a\"\n").resolved_or_error,
            "run.toml:2:8: expected an array of tables, [[plan.runs]] for "
            "runs, got string \"a\"");
}

TEST(ConfigTablesTest, DateMustBeARealCalendarDate) {
  EXPECT_EQ(
      ReadPlan("[[plan.runs]]\ndate = \"2027-02-29\"\n").resolved_or_error,
      "run.toml:2:8: expected a date YYYY-MM-DD for date, got string "
      "\"2027-02-29\"");
  EXPECT_EQ(
      ReadPlan("[[plan.runs]]\ndate = 2027-06-01T10:00:00\n").resolved_or_error,
      "run.toml:2:8: expected a date YYYY-MM-DD for date, got a date or "
      "time");
  // TOML's own dates are checked by the parser, with its position.
  EXPECT_TRUE(ReadPlan("[[plan.runs]]\ndate = 2027-02-30\n")
                  .resolved_or_error.starts_with("run.toml:2:"));
}

}  // namespace
}  // namespace needle
