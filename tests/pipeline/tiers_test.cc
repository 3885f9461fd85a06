#include "pipeline/tiers.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>

namespace needle {
namespace {

std::vector<TierSpec> Parse(const std::vector<std::string>& lines) {
  return ParseTiers(lines, [](size_t index, size_t column) {
    return fmt::format("t.toml:{}:{}", index + 1, column + 1);
  });
}

std::string ErrorFor(const std::vector<std::string>& lines) {
  try {
    Parse(lines);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(TiersTest, ParsesNamesConditionsAndKeepFractionLast) {
  const auto tiers = Parse({
      "raw",
      "automatic: reason == ok",
      "expert: keep_fraction 0.1 by quality_score and "
      "gopher.mean_word_length between 3 and 10 and lang in [en, de]",
  });
  ASSERT_EQ(tiers.size(), 3u);
  EXPECT_EQ(tiers[0].name, "raw");
  EXPECT_TRUE(tiers[0].conditions.empty());
  ASSERT_EQ(tiers[1].conditions.size(), 1u);
  EXPECT_FALSE(tiers[1].conditions[0].numeric);
  EXPECT_EQ(tiers[1].conditions[0].text, "reason == ok");
  ASSERT_EQ(tiers[2].conditions.size(), 3u);
  EXPECT_EQ(tiers[2].conditions[0].text,
            "gopher.mean_word_length between 3 and 10");
  EXPECT_EQ(tiers[2].conditions[1].text, "lang in [en, de]");
  ASSERT_NE(tiers[2].top(), nullptr);
  EXPECT_EQ(tiers[2].top()->signal, "quality_score");
  EXPECT_DOUBLE_EQ(tiers[2].top()->high, 0.1);
}

TEST(TiersTest, MistakesNameTheirColumnAndWhatWasExpected) {
  EXPECT_EQ(ErrorFor({"a: score >= high"}),
            "t.toml:1:13: expected a number after >= in tier \"a: score >= "
            "high\", got 'high'");
  EXPECT_EQ(ErrorFor({"raw", "a: score"}),
            "t.toml:2:9: expected a comparison (>=, <=, >, <, ==, !=, "
            "between, in, not in) in tier \"a: score\", got the end of the "
            "tier");
  EXPECT_EQ(ErrorFor({"a: keep_fraction 1.5 by q"}),
            "t.toml:1:18: expected a fraction above 0 and at most 1 in tier "
            "\"a: keep_fraction 1.5 by q\", got '1.5'");
  EXPECT_EQ(ErrorFor({"a: x between 5 and 1"}),
            "t.toml:1:20: expected an upper bound >= the lower one in tier "
            "\"a: x between 5 and 1\", got '1'");
  EXPECT_EQ(ErrorFor({"a: x > 1 x < 2"}),
            "t.toml:1:10: expected 'and' or the end of the tier in tier \"a: "
            "x > 1 x < 2\", got 'x'");
  EXPECT_EQ(ErrorFor({"a", "a: x > 1"}),
            "t.toml:2:1: tier 'a' is defined twice");
  EXPECT_EQ(ErrorFor({"raw", "done: x > 1"}),
            "t.toml:2:1: expected a tier name other than 'done' in tier "
            "\"done: x > 1\", got 'done'");
}

// A table of documents with a score, a language and a reason.
SignalTable Table(const std::vector<double>& scores,
                  const std::vector<std::string>& langs = {}) {
  SignalTable table({"reason", "lang", "tokens", "score"});
  for (size_t i = 0; i < scores.size(); ++i) {
    table.AddDocument();
    table.SetString(0, "ok");
    if (!std::isnan(scores[i])) table.SetNumber(3, scores[i]);
    if (i < langs.size()) table.SetString(1, langs[i]);
  }
  return table;
}

TEST(TiersTest, TiersNestAndEachDocumentGetsItsHighest) {
  const auto tiers = Parse({"raw", "mid: score >= 0.5", "top: score >= 0.8"});
  const auto assigned = AssignTiers(tiers, Table({0.1, 0.5, 0.79, 0.8, 0.95}));
  EXPECT_EQ(assigned.tier, (std::vector<int16_t>{0, 1, 1, 2, 2}));
  EXPECT_EQ(assigned.fell_out[1][0],
            std::make_pair(std::string("score >= 0.5"), uint64_t{1}));
  // Tier 2 judges only tier 1's members: 0.1 is not counted again.
  EXPECT_EQ(assigned.fell_out[2][0].second, 2u);
}

TEST(TiersTest, AStricterLaterTierNeverTakesWhatAnEarlierOneDropped) {
  // "top" alone would take 0.1 (score < 0.2), but it is not in "mid".
  const auto tiers = Parse({"raw", "mid: score >= 0.5", "top: score < 0.6"});
  const auto assigned = AssignTiers(tiers, Table({0.1, 0.55, 0.7}));
  EXPECT_EQ(assigned.tier, (std::vector<int16_t>{0, 2, 1}));
}

TEST(TiersTest, MissingSignalsFailEveryConditionEvenNegativeOnes) {
  const double none = std::nan("");
  const auto tiers = Parse({"a: score != 3", "b: lang not in [de]"});
  const auto assigned =
      AssignTiers(tiers, Table({none, 1.0, 1.0, 1.0}, {"en", "en", "de"}));
  EXPECT_EQ(assigned.tier, (std::vector<int16_t>{-1, 1, 0, 0}));
}

TEST(TiersTest, StringAndNumberListsCompareByKind) {
  const auto tiers = Parse({"a: lang in [en, de]", "b: score in [1, 2.5]"});
  const auto assigned =
      AssignTiers(tiers, Table({1, 2.5, 2, 1}, {"en", "de", "en", "fr"}));
  EXPECT_EQ(assigned.tier, (std::vector<int16_t>{1, 1, 0, -1}));
}

TEST(TiersTest, KeepFractionTakesExactlyItsShareWithTiesInInputOrder) {
  // 10 documents, keep 0.3: the best three. Four tie at 0.9 for the last
  // places; the earliest of them win.
  const auto tiers = Parse({"raw", "best: keep_fraction 0.3 by score"});
  const auto assigned = AssignTiers(
      tiers, Table({0.9, 0.1, 0.95, 0.9, 0.2, 0.9, 0.3, 0.9, 0.4, 0.5}));
  EXPECT_EQ(assigned.tier,
            (std::vector<int16_t>{1, 0, 1, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_DOUBLE_EQ(assigned.cutoff[1], 0.9);
  EXPECT_EQ(assigned.fell_out[1][0].second, 7u);
}

TEST(TiersTest, KeepFractionCountsThePreviousTierButRanksOnlyQualifiers) {
  // Of 4 documents in raw, keep 0.5 = 2, among those with lang == en only.
  const auto tiers =
      Parse({"raw", "best: keep_fraction 0.5 by score and lang == en"});
  const auto assigned =
      AssignTiers(tiers, Table({0.9, 0.8, 0.7, 0.6}, {"de", "en", "en", "en"}));
  EXPECT_EQ(assigned.tier, (std::vector<int16_t>{0, 1, 1, 0}));
  EXPECT_EQ(assigned.fell_out[1][0],
            std::make_pair(std::string("lang == en"), uint64_t{1}));
  EXPECT_EQ(assigned.fell_out[1][1].second, 1u);  // keep_fraction
}

TEST(TiersTest, EmptyRunAndUnrankableDocuments) {
  const auto tiers = Parse({"raw", "best: keep_fraction 0.5 by score"});
  EXPECT_TRUE(AssignTiers(tiers, Table({})).tier.empty());
  const double none = std::nan("");
  const auto assigned = AssignTiers(tiers, Table({none, none}));
  EXPECT_EQ(assigned.tier, (std::vector<int16_t>{0, 0}));
  EXPECT_TRUE(std::isnan(assigned.cutoff[1]));
}

}  // namespace
}  // namespace needle
