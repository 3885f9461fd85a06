#pragma once
// Emu-style tiers: an ordered funnel of ever stricter document sets.
//
// Each tier is written in [tiers].tiers as one line of a small language:
//
//   "raw"                                     every parsed document
//   "automatic: reason == ok"                 passed every stage and dedup
//   "amateur: quality_score >= 0.5"
//   "expert: keep_fraction 0.1 by quality_score and gopher.word_count >= 100"
//
// A tier holds the documents of the tier before it that meet all of its
// conditions, so tier k is a subset of every tier below k. Conditions:
//
//   SIGNAL OP NUMBER            OP is one of >= <= > < == !=
//   SIGNAL between A and B      A <= value <= B
//   SIGNAL in [a, b, c]         string or number among the listed values
//   SIGNAL not in [a, b]
//   SIGNAL == word, != word     string comparison (lang == en)
//   keep_fraction F by SIGNAL   the best round(F x N) documents of the tier
//                               before (N documents) by SIGNAL, among those
//                               meeting the other conditions; higher is
//                               better, ties go to the earlier document
//
// SIGNAL is any signal a stage records ("lang", "gopher.mean_word_length"),
// "dup_count" from dedup, or "reason": the document's reject reason, "ok"
// when every stage and dedup kept it. A document that lacks a signal fails
// every condition on it, and a `!=` or `not in` too: an unmeasured document
// is never promoted.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/config.h"

namespace needle {

struct TierOptions {  // TOML [tiers]
  bool enabled = false;
  std::vector<std::string> tiers = {
      "raw",
      "automatic: reason == ok",
      "amateur: quality_score >= 0.5",
      "expert: keep_fraction 0.1 by quality_score and "
      "gopher_rep.dup_line_frac <= 0.1",
  };

  void Visit(ConfigSection& s) {
    s.Field("enabled", &enabled,
            "Sort documents into tiers: each is written once, to "
            "tiers/<its highest tier>/, and the funnel goes into run.json.");
    s.Field("tiers", &tiers,
            "The tiers, loosest first: \"name: condition and condition\" "
            "(see pipeline/tiers.h and the README for the conditions).");
  }
};

struct TierCondition {
  enum class Op { kGe, kLe, kGt, kLt, kEq, kNe, kBetween, kIn, kNotIn, kTop };
  std::string signal;
  Op op = Op::kGe;
  double low = 0;   // the number compared, or the lower bound
  double high = 0;  // between's upper bound; keep_fraction's fraction
  std::vector<std::string> words;  // in / not in / == / != on strings
  bool numeric = true;             // compare numbers (else strings)
  std::string text;                // as written, for the funnel report
};

struct TierSpec {
  std::string name;
  std::vector<TierCondition> conditions;  // keep_fraction, if any, is last
  const TierCondition* top() const;       // the keep_fraction, or nullptr
};

// Parses every tier line. `where(i)` gives "file:line:col" of line i; a
// mistake is a ConfigError at that place plus the column within the line.
std::vector<TierSpec> ParseTiers(
    const std::vector<std::string>& lines,
    const std::function<std::string(size_t index, size_t column)>& where);

// The signals of every document of a run, as columns: what tiering reads.
// Missing values are NaN (numbers) or -1 (strings).
class SignalTable {
 public:
  struct Column {
    std::vector<double> numbers;   // NaN when missing or not a number
    std::vector<int32_t> strings;  // index into words(), -1 when missing
  };

  explicit SignalTable(std::vector<std::string> keys);
  const std::vector<std::string>& keys() const { return keys_; }
  size_t size() const { return size_; }

  // Adds one document with every column missing; then Set() its values.
  void AddDocument();
  void SetNumber(size_t key, double value);
  void SetString(size_t key, std::string_view value);
  // Which column holds `key`, or SIZE_MAX.
  size_t Find(std::string_view key) const;
  const Column& column(size_t key) const { return columns_[key]; }
  const std::string& word(int32_t id) const { return words_[id]; }
  int32_t FindWord(std::string_view word) const;

 private:
  std::vector<std::string> keys_;
  std::vector<Column> columns_;
  std::vector<std::string> words_;
  size_t size_ = 0;
};

// Every signal the tiers read, and those the funnel reports on.
std::vector<std::string> SignalsTiersRead(const std::vector<TierSpec>& tiers);

struct TierAssignment {
  // Per document: the index of its highest tier, or -1 below the first.
  std::vector<int16_t> tier;
  // Per tier (from the second on): documents of the tier before that it
  // did not take, by the first condition they failed (its text), in the
  // order of the tier's conditions.
  std::vector<std::vector<std::pair<std::string, uint64_t>>> fell_out;
  // Per keep_fraction tier: the score of the last document taken (NaN when
  // none), and the number taken.
  std::vector<double> cutoff;
};

// Applies the tiers in order. Deterministic: depends only on the table.
TierAssignment AssignTiers(const std::vector<TierSpec>& tiers,
                           const SignalTable& table);

}  // namespace needle
