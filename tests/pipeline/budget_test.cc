// The projection's arithmetic on cases worked out by hand: each expected
// number is derived in the comment above it, never copied from a run.
#include "pipeline/budget.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>

#include "pipeline/civil_date.h"

namespace needle {
namespace {

int64_t Day(const char* date) { return DaysFromDate(date).value(); }

Repetition Epochs(double epochs) {
  Repetition r;
  r.rule = RepetitionRule::kEpochs;
  r.max_epochs = epochs;
  return r;
}

Repetition Muennighoff(double epochs) {
  Repetition r;
  r.rule = RepetitionRule::kMuennighoff;
  r.max_epochs = epochs;
  r.r_star = 15.4;
  return r;
}

TEST(BudgetTest, ChinchillaSeventyBillionNeedsOnePointFourTrillionTokens) {
  // Chinchilla: N = 70e9 at 20 tokens per parameter, D = 1.4e12, so
  // C = 6 N D = 5.88e23; D = sqrt(20 x 5.88e23 / 6) = sqrt(1.96e24).
  const ModelSize size = ComputeOptimal(5.88e23, 20);
  EXPECT_NEAR(size.tokens / 1.4e12, 1.0, 1e-12);
  EXPECT_NEAR(size.params / 70e9, 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(UniqueTokensNeeded(1.4e12, Epochs(1)), 1.4e12);
  // Read the other way: 1.4e12 unique tokens, seen once, train 70B.
  const ModelSize largest = LargestModel(1.4e12, 20, Epochs(1));
  EXPECT_DOUBLE_EQ(largest.params, 70e9);
  EXPECT_NEAR(largest.flops / 5.88e23, 1.0, 1e-12);
}

TEST(BudgetTest, FourEpochsCutTheUniqueNeedToAQuarter) {
  // Counting each epoch as new data: 1.4e12 / 4 = 3.5e11.
  const double unique = UniqueTokensNeeded(1.4e12, Epochs(4));
  EXPECT_DOUBLE_EQ(unique, 3.5e11);
  // What those 4 epochs are really worth (Muennighoff et al.): R = 3,
  // 3 / 15.4 = 0.194805, exp(-0.194805) = exp(-0.2) x exp(0.005195) =
  // 0.818731 x 1.005208 = 0.822995, 15.4 x 0.177005 = 2.725877, so D' =
  // 3.5e11 x 3.725877 = 1.304057e12: 93.1% of 1.4e12.
  const double effective = EffectiveTokens(unique, 4, 15.4);
  EXPECT_NEAR(effective / 1.4e12, 0.931469, 1e-6);
}

TEST(BudgetTest, MuennighoffFourEpochsNeedSlightlyMoreThanAQuarter) {
  // U = D / 3.725877 = 3.757504e11, 26.8% of D; its effective data is D.
  const double unique = UniqueTokensNeeded(1.4e12, Muennighoff(4));
  EXPECT_NEAR(unique / 1.4e12, 0.268393, 1e-6);
  EXPECT_NEAR(EffectiveTokens(unique, 4, 15.4) / 1.4e12, 1.0, 1e-12);
  EXPECT_GT(unique, UniqueTokensNeeded(1.4e12, Epochs(4)));
}

TEST(BudgetTest, OneEpochIsWorthItsTokensUnderEitherRule) {
  // R = 0: U + U R* (1 - exp(0)) = U.
  EXPECT_DOUBLE_EQ(TrainingTokensPerUniqueToken(Epochs(1)), 1.0);
  EXPECT_DOUBLE_EQ(TrainingTokensPerUniqueToken(Muennighoff(1)), 1.0);
}

TEST(BudgetTest, FlopsBecomeTokensThroughSixND) {
  // 3.84e25 / (6 x 400e9) = 1.6e13.
  EXPECT_DOUBLE_EQ(TokensFromFlops(3.84e25, 400e9), 1.6e13);
}

// One tier of 10T tokens growing by 100B a month, from 2027-01-01.
BudgetInput TenTrillionTier() {
  BudgetInput input;
  input.as_of = Day("2027-01-01");
  input.horizon_end = Day("2037-01-01");
  input.tiers.push_back({"web", 10e12, 100e9});
  return input;
}

TEST(BudgetTest, APlanThatNeverRunsShort) {
  BudgetInput input = TenTrillionTier();
  input.runs = {{"small", Day("2027-06-01"), 70e9, 1.4e12},
                {"large", Day("2029-06-01"), 400e9, 8e12}};
  const std::vector<TierBudget> budgets = ProjectBudget(input);
  ASSERT_EQ(budgets.size(), 1u);
  const TierBudget& web = budgets[0];
  EXPECT_FALSE(web.first_short_run);
  EXPECT_FALSE(web.crossing);
  for (const RunBalance& run : web.runs) {
    EXPECT_GT(run.surplus, 0);
    EXPECT_EQ(run.enough_from, input.as_of);  // 10T covers both today
  }
  // 2029-06-01 is 882 days on: 10e12 + 100e9 x 882 / 30.436875 - 8e12.
  EXPECT_NEAR(web.runs[1].surplus, 2e12 + 100e9 * 882 / 30.436875, 1);
  // Largest model today: D = 10e12, N = D / 20 = 500e9.
  EXPECT_DOUBLE_EQ(web.largest_model_today.params, 500e9);
}

TEST(BudgetTest, ATierWithZeroTokensIsShortForEveryRunAndNeverCatchesUp) {
  BudgetInput input = TenTrillionTier();
  input.tiers = {{"empty", 0, 0}};
  input.runs = {{"late", Day("2028-01-01"), 70e9, 1.4e12},
                {"early", Day("2027-03-01"), 1e9, 20e9}};
  const TierBudget budget = ProjectBudget(input)[0];
  ASSERT_TRUE(budget.first_short_run);
  EXPECT_EQ(*budget.first_short_run, 1u);  // by date, not plan order
  EXPECT_EQ(budget.crossing, Day("2027-03-01"));
  for (const RunBalance& run : budget.runs) {
    EXPECT_EQ(run.supply, 0);
    EXPECT_EQ(run.surplus, -run.need);
    EXPECT_FALSE(run.enough_from);
  }
  EXPECT_EQ(budget.largest_model_today.params, 0);
  EXPECT_EQ(budget.largest_model_today.flops, 0);
}

TEST(BudgetTest, NoDemandNeverCrosses) {
  BudgetInput input = TenTrillionTier();
  input.tiers = {{"empty", 0, 0}};
  EXPECT_FALSE(ProjectBudget(input)[0].crossing);
}

TEST(BudgetTest, SupplyGrowsAcrossAYearEnd) {
  // 30 days from 2027-12-15 to 2028-01-14: 1e12 + 1e11 x 30 / 30.436875.
  const TierSupply tier{"web", 1e12, 1e11};
  EXPECT_EQ(Day("2028-01-14") - Day("2027-12-15"), 30);
  EXPECT_NEAR(SupplyOn(tier, Day("2027-12-15"), Day("2028-01-14")),
              1e12 + 1e11 * 30 / 30.436875, 1e-3);
  // Before as_of the supply was smaller, and never negative.
  EXPECT_EQ(SupplyOn(tier, Day("2027-12-15"), Day("2020-01-01")), 0);
}

TEST(BudgetTest, SupplyCoversANeedOnTheDayItGrowsPastIt) {
  // Need 1.2e12 from 1e12 at 1e11 a month: 2 months = 60.87 days, so on
  // day 61 after 2027-12-15: 16 days to 2027-12-31, 31 in January, 14 in
  // February: 2028-02-14.
  BudgetInput input;
  input.as_of = Day("2027-12-15");
  input.horizon_end = Day("2030-01-01");
  input.tiers = {{"web", 1e12, 1e11}};
  input.runs = {{"run", Day("2028-01-01"), 6e10, 1.2e12}};
  const TierBudget budget = ProjectBudget(input)[0];
  EXPECT_EQ(budget.runs[0].enough_from, Day("2028-02-14"));
  EXPECT_EQ(DateFromDays(*budget.runs[0].enough_from), "2028-02-14");
  // The run on 2028-01-01 is short, so demand overtakes supply that day.
  EXPECT_EQ(budget.first_short_run, 0u);
  EXPECT_EQ(budget.crossing, Day("2028-01-01"));
}

TEST(BudgetTest, PlanDemandIsTheNeedOfTheLatestRun) {
  BudgetInput input = TenTrillionTier();
  input.repetition = Epochs(2);
  input.runs = {{"a", Day("2027-06-01"), 1, 4e12},
                {"b", Day("2028-06-01"), 1, 2e12},
                {"c", Day("2028-06-01"), 1, 6e12}};
  EXPECT_EQ(DemandOn(input, Day("2027-05-31")), 0);
  EXPECT_EQ(DemandOn(input, Day("2027-06-01")), 2e12);  // 4e12 / 2 epochs
  EXPECT_EQ(DemandOn(input, Day("2028-05-31")), 2e12);
  EXPECT_EQ(DemandOn(input, Day("2028-06-01")), 3e12);  // the larger of b, c
}

TEST(BudgetTest, GrowthRuleCrossesASteadySupplyWhenDemandDoubles) {
  // Base: Chinchilla's 5.88e23 FLOPs on 2027-01-01, x4 a year. D grows as
  // sqrt(C): x2 a year from 1.4e12. Against 2.8e12 it crosses once more
  // than a year (365.2425 days) has passed: day 366, 2028-01-02 (2027
  // has 365 days).
  BudgetInput input;
  input.as_of = Day("2027-01-01");
  input.horizon_end = Day("2037-01-01");
  input.growth = GrowthRule{Day("2027-01-01"), 5.88e23, 4};
  input.tiers = {{"web", 2.8e12, 0}};
  EXPECT_NEAR(DemandOn(input, input.as_of) / 1.4e12, 1.0, 1e-12);
  EXPECT_EQ(ProjectBudget(input)[0].crossing, Day("2028-01-02"));
}

TEST(BudgetTest, GrowthRunsFallOnAnniversariesAcrossLeapDays) {
  const GrowthRule rule{Day("2024-02-29"), 5.88e23, 4};
  const std::vector<PlannedRun> runs =
      RunsFromGrowth(rule, "base", 20, Day("2024-01-01"), Day("2028-12-31"));
  ASSERT_EQ(runs.size(), 5u);
  EXPECT_EQ(runs[0].name, "base");
  EXPECT_EQ(runs[0].day, Day("2024-02-29"));
  EXPECT_EQ(runs[1].name, "base +1y");
  EXPECT_EQ(runs[1].day, Day("2025-02-28"));
  EXPECT_EQ(runs[4].day, Day("2028-02-29"));
  // Each year's compute x4, so its tokens x2: 1.4e12, 2.8e12, ...
  EXPECT_NEAR(runs[0].tokens / 1.4e12, 1.0, 1e-12);
  // 2025-02-28 is 365 days on, a hair under a year of growth.
  EXPECT_NEAR(runs[1].tokens / 2.8e12, std::pow(2.0, 365 / 365.2425 - 1),
              1e-12);
}

TEST(CivilDateTest, MatchesAnObviousDayByDayCalendar) {
  // Walks 1900-01-01 to 2400-12-31 one day at a time with the leap rule
  // spelled out, and checks both directions of the fast conversion.
  int64_t day = DaysFromCivil(1900, 1, 1);
  EXPECT_EQ(day, -25567);  // 70 years, 17 of them leap: 70 x 365 + 17
  for (int year = 1900; year <= 2400; ++year) {
    const bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    const int lengths[] = {
        31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int month = 1; month <= 12; ++month) {
      for (int d = 1; d <= lengths[month - 1]; ++d, ++day) {
        const std::string text =
            fmt::format("{:04}-{:02}-{:02}", year, month, d);
        ASSERT_EQ(DaysFromDate(text), day) << text;
        ASSERT_EQ(DateFromDays(day), text);
      }
    }
  }
}

TEST(CivilDateTest, RejectsWhatIsNotACalendarDate) {
  EXPECT_EQ(DaysFromDate("1970-01-01"), 0);
  EXPECT_EQ(DaysFromDate("2024-02-29"), DaysFromDate("2024-03-01").value() - 1);
  for (const char* bad :
       {"2023-02-29", "2027-13-01", "2027-00-10", "2027-04-31", "2027-6-1",
        "27-06-01", "2027/06/01", "2027-06-01T00:00", "", "x027-06-01"}) {
    EXPECT_FALSE(DaysFromDate(bad)) << bad;
  }
}

TEST(CivilDateTest, AddYearsKeepsTheDayOrEndsFebruary) {
  EXPECT_EQ(AddYears(Day("2027-12-31"), 1), Day("2028-12-31"));
  EXPECT_EQ(AddYears(Day("2028-02-29"), 1), Day("2029-02-28"));
  EXPECT_EQ(AddYears(Day("2028-02-29"), 4), Day("2032-02-29"));
  EXPECT_EQ(AddYears(Day("2028-02-29"), -1), Day("2027-02-28"));
}

}  // namespace
}  // namespace needle
