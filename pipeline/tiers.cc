#include "pipeline/tiers.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <numeric>

namespace needle {
namespace {

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

// --- Parsing: a tier line is split into tokens, each with its column.

struct Token {
  std::string text;
  size_t column = 0;  // 0-based, within the line
};

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ||
         c == '-' || c == '+' || static_cast<unsigned char>(c) >= 0x80;
}

std::vector<Token> Tokenize(std::string_view line) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < line.size()) {
    const char c = line[i];
    if (c == ' ' || c == '\t') {
      ++i;
    } else if (IsWordChar(c)) {
      const size_t start = i;
      while (i < line.size() && IsWordChar(line[i])) ++i;
      tokens.push_back({std::string(line.substr(start, i - start)), start});
    } else if ((c == '>' || c == '<' || c == '=' || c == '!') &&
               i + 1 < line.size() && line[i + 1] == '=') {
      tokens.push_back({std::string(line.substr(i, 2)), i});
      i += 2;
    } else {
      tokens.push_back({std::string(1, c), i});
      ++i;
    }
  }
  return tokens;
}

class TierParser {
 public:
  TierParser(std::string_view line, std::function<std::string(size_t)> where)
      : line_(line), tokens_(Tokenize(line)), where_(std::move(where)) {}

  TierSpec Parse() {
    TierSpec spec;
    spec.name = ExpectName("a tier name");
    if (spec.name.find('.') != std::string::npos) {
      // `needle tune --sweep TIER.SIGNAL=...` splits at the first dot.
      Fail(previous_, "a tier name without '.'");
    }
    if (spec.name == "done") {
      // OUT/tiers/done/ holds the tier step's markers, beside the tiers'
      // folders.
      Fail(previous_, "a tier name other than 'done'");
    }
    if (AtEnd()) return spec;
    Expect(":");
    bool has_top = false;
    do {
      TierCondition condition = ParseCondition();
      if (condition.op == TierCondition::Op::kTop) {
        if (has_top) Fail(previous_, "a second keep_fraction in one tier");
        has_top = true;
      }
      spec.conditions.push_back(std::move(condition));
    } while (Accept("and"));
    if (!AtEnd()) Fail(Peek(), "'and' or the end of the tier");
    // keep_fraction ranks what the other conditions left: evaluate it last.
    std::stable_partition(
        spec.conditions.begin(), spec.conditions.end(),
        [](const TierCondition& c) { return c.op != TierCondition::Op::kTop; });
    return spec;
  }

 private:
  TierCondition ParseCondition() {
    const size_t start = Peek().column;
    TierCondition c;
    if (Accept("keep_fraction")) {
      c.op = TierCondition::Op::kTop;
      c.high = ExpectNumber();
      if (!(c.high > 0 && c.high <= 1)) {
        Fail(previous_, "a fraction above 0 and at most 1");
      }
      Expect("by");
      c.signal = ExpectName("a signal to rank by");
    } else {
      c.signal = ExpectName("a signal name or keep_fraction");
      ParseComparison(&c);
    }
    const size_t end = previous_.column + previous_.text.size();
    c.text = std::string(line_.substr(start, end - start));
    return c;
  }

  void ParseComparison(TierCondition* c) {
    using Op = TierCondition::Op;
    if (Accept("between")) {
      c->op = Op::kBetween;
      c->low = ExpectNumber();
      Expect("and");
      c->high = ExpectNumber();
      if (c->low > c->high) Fail(previous_, "an upper bound >= the lower one");
      return;
    }
    if (Accept("not")) {
      Expect("in");
      c->op = Op::kNotIn;
      ParseList(c);
      return;
    }
    if (Accept("in")) {
      c->op = Op::kIn;
      ParseList(c);
      return;
    }
    static constexpr std::pair<std::string_view, Op> kOps[] = {
        {">=", Op::kGe}, {"<=", Op::kLe}, {">", Op::kGt},
        {"<", Op::kLt},  {"==", Op::kEq}, {"!=", Op::kNe}};
    for (const auto& [text, op] : kOps) {
      if (!Accept(text)) continue;
      c->op = op;
      const Token& value = Next("a value to compare with");
      if (ToNumber(value.text, &c->low)) return;
      if (op != Op::kEq && op != Op::kNe) {
        Fail(value, fmt::format("a number after {}", text));
      }
      if (!IsWordChar(value.text[0])) Fail(value, "a value to compare with");
      c->numeric = false;
      c->words.push_back(value.text);
      return;
    }
    Fail(AtEnd() ? End() : Peek(),
         "a comparison (>=, <=, >, <, ==, !=, between, in, not in)");
  }

  // [a, b, c]: all numbers, or else all compared as strings.
  void ParseList(TierCondition* c) {
    Expect("[");
    do {
      const Token& value = Next("a list value");
      if (!IsWordChar(value.text[0])) Fail(value, "a list value");
      c->words.push_back(value.text);
    } while (Accept(","));
    Expect("]");
    double ignored = 0;
    c->numeric = std::all_of(
        c->words.begin(), c->words.end(),
        [&](const std::string& w) { return ToNumber(w, &ignored); });
  }

  static bool ToNumber(std::string_view text, double* value) {
    if (text.empty() || text[0] == '+') return false;
    const auto [end, error] =
        std::from_chars(text.data(), text.data() + text.size(), *value);
    return error == std::errc() && end == text.data() + text.size() &&
           std::isfinite(*value);
  }

  double ExpectNumber() {
    const Token& token = Next("a number");
    double value = 0;
    if (!ToNumber(token.text, &value)) Fail(token, "a number");
    return value;
  }

  std::string ExpectName(std::string_view what) {
    const Token& token = Next(what);
    if (!IsWordChar(token.text[0]) || token.text == "and") Fail(token, what);
    return token.text;
  }

  void Expect(std::string_view text) {
    const Token& token = Next(fmt::format("'{}'", text));
    if (token.text != text) Fail(token, fmt::format("'{}'", text));
  }

  bool Accept(std::string_view text) {
    if (AtEnd() || tokens_[next_].text != text) return false;
    previous_ = tokens_[next_++];
    return true;
  }

  const Token& Next(std::string_view what) {
    if (AtEnd()) Fail(End(), what);
    previous_ = tokens_[next_++];
    return previous_;
  }

  bool AtEnd() const { return next_ == tokens_.size(); }
  const Token& Peek() const { return tokens_[next_]; }
  Token End() const { return {"", line_.size()}; }

  [[noreturn]] void Fail(const Token& at, std::string_view expected) const {
    const std::string got =
        at.text.empty() ? "the end of the tier" : fmt::format("'{}'", at.text);
    throw ConfigError(fmt::format("{}: expected {} in tier \"{}\", got {}",
                                  where_(at.column), expected, line_, got));
  }

  std::string_view line_;
  std::vector<Token> tokens_;
  std::function<std::string(size_t)> where_;
  size_t next_ = 0;
  Token previous_;
};

// --- Evaluation.

bool Holds(const TierCondition& c, const SignalTable& table, size_t column,
           size_t doc, const std::vector<int32_t>& word_ids) {
  using Op = TierCondition::Op;
  if (column == SIZE_MAX) return false;
  const SignalTable::Column& values = table.column(column);
  if (!c.numeric) {
    const int32_t id = values.strings[doc];
    if (id < 0) return false;
    const bool listed =
        std::find(word_ids.begin(), word_ids.end(), id) != word_ids.end();
    return (c.op == Op::kIn || c.op == Op::kEq) ? listed : !listed;
  }
  const double v = values.numbers[doc];
  if (std::isnan(v)) return false;
  switch (c.op) {
    case Op::kGe:
      return v >= c.low;
    case Op::kLe:
      return v <= c.low;
    case Op::kGt:
      return v > c.low;
    case Op::kLt:
      return v < c.low;
    case Op::kEq:
      return v == c.low;
    case Op::kNe:
      return v != c.low;
    case Op::kBetween:
      return v >= c.low && v <= c.high;
    case Op::kIn:
    case Op::kNotIn: {
      bool listed = false;
      for (const std::string& w : c.words) listed |= std::stod(w) == v;
      return c.op == Op::kIn ? listed : !listed;
    }
    case Op::kTop:
      return true;  // ranked separately
  }
  return false;
}

}  // namespace

const TierCondition* TierSpec::top() const {
  if (conditions.empty() || conditions.back().op != TierCondition::Op::kTop) {
    return nullptr;
  }
  return &conditions.back();
}

std::vector<TierSpec> ParseTiers(
    const std::vector<std::string>& lines,
    const std::function<std::string(size_t index, size_t column)>& where) {
  std::vector<TierSpec> tiers;
  for (size_t i = 0; i < lines.size(); ++i) {
    auto where_in_line = [&](size_t column) { return where(i, column); };
    TierSpec spec = TierParser(lines[i], where_in_line).Parse();
    for (const TierSpec& earlier : tiers) {
      if (earlier.name == spec.name) {
        throw ConfigError(fmt::format("{}: tier '{}' is defined twice",
                                      where(i, 0), spec.name));
      }
    }
    tiers.push_back(std::move(spec));
  }
  return tiers;
}

SignalTable::SignalTable(std::vector<std::string> keys)
    : keys_(std::move(keys)), columns_(keys_.size()) {}

void SignalTable::AddDocument() {
  for (Column& column : columns_) {
    column.numbers.push_back(kMissing);
    column.strings.push_back(-1);
  }
  ++size_;
}

void SignalTable::SetNumber(size_t key, double value) {
  columns_[key].numbers.back() = value;
}

void SignalTable::SetString(size_t key, std::string_view value) {
  int32_t id = FindWord(value);
  if (id < 0) {
    id = static_cast<int32_t>(words_.size());
    words_.emplace_back(value);
  }
  columns_[key].strings.back() = id;
}

size_t SignalTable::Find(std::string_view key) const {
  const auto it = std::find(keys_.begin(), keys_.end(), key);
  return it == keys_.end() ? SIZE_MAX : static_cast<size_t>(it - keys_.begin());
}

int32_t SignalTable::FindWord(std::string_view word) const {
  // Few distinct words (languages, reasons): a scan beats a map here.
  const auto it = std::find(words_.begin(), words_.end(), word);
  return it == words_.end() ? -1 : static_cast<int32_t>(it - words_.begin());
}

std::vector<std::string> SignalsTiersRead(const std::vector<TierSpec>& tiers) {
  // The funnel reports languages and tokens, whatever the tiers read.
  std::vector<std::string> keys = {"reason", "lang", "tokens"};
  for (const TierSpec& tier : tiers) {
    for (const TierCondition& c : tier.conditions) {
      if (std::find(keys.begin(), keys.end(), c.signal) == keys.end()) {
        keys.push_back(c.signal);
      }
    }
  }
  return keys;
}

TierAssignment AssignTiers(const std::vector<TierSpec>& tiers,
                           const SignalTable& table) {
  TierAssignment result;
  result.tier.assign(table.size(), -1);
  result.fell_out.resize(tiers.size());
  result.cutoff.assign(tiers.size(), kMissing);
  std::vector<uint32_t> members(table.size());
  std::iota(members.begin(), members.end(), 0);
  for (size_t t = 0; t < tiers.size(); ++t) {
    const TierSpec& tier = tiers[t];
    std::vector<uint64_t> failed(tier.conditions.size(), 0);
    std::vector<size_t> columns;
    std::vector<std::vector<int32_t>> word_ids(tier.conditions.size());
    for (size_t c = 0; c < tier.conditions.size(); ++c) {
      columns.push_back(table.Find(tier.conditions[c].signal));
      for (const std::string& w : tier.conditions[c].words) {
        word_ids[c].push_back(table.FindWord(w));
      }
    }
    std::vector<uint32_t> passed;
    passed.reserve(members.size());
    for (const uint32_t doc : members) {
      bool ok = true;
      for (size_t c = 0; c < tier.conditions.size() && ok; ++c) {
        const TierCondition& condition = tier.conditions[c];
        if (condition.op == TierCondition::Op::kTop) {
          // Ranked below; a document without the score cannot be ranked.
          ok = columns[c] != SIZE_MAX &&
               !std::isnan(table.column(columns[c]).numbers[doc]);
        } else {
          ok = Holds(condition, table, columns[c], doc, word_ids[c]);
        }
        if (!ok) ++failed[c];
      }
      if (ok) passed.push_back(doc);
    }
    const TierCondition* top = tier.top();
    if (top != nullptr && !passed.empty()) {
      const std::vector<double>& score =
          table.column(table.Find(top->signal)).numbers;
      const auto wanted = static_cast<size_t>(
          std::llround(top->high * static_cast<double>(members.size())));
      // Best first; equal scores keep input order, so the cut is exact.
      std::stable_sort(
          passed.begin(), passed.end(),
          [&](uint32_t a, uint32_t b) { return score[a] > score[b]; });
      if (passed.size() > wanted) {
        failed.back() += passed.size() - wanted;
        passed.resize(wanted);
      }
      if (!passed.empty()) result.cutoff[t] = score[passed.back()];
      std::sort(passed.begin(), passed.end());
    }
    for (size_t c = 0; c < tier.conditions.size(); ++c) {
      result.fell_out[t].emplace_back(tier.conditions[c].text, failed[c]);
    }
    for (const uint32_t doc : passed) {
      result.tier[doc] = static_cast<int16_t>(t);
    }
    members = std::move(passed);
  }
  return result;
}

}  // namespace needle
