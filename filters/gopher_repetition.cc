#include "filters/gopher_repetition.h"

// Inlined: most keys hashed here are a few dozen bytes, where a call into
// the shared library costs as much as the hashing.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <span>

#include "filters/python_text.h"
#include "filters/words.h"

namespace needle {
namespace {

namespace py = python_text;

// Counts distinct keys by hash. A key is an index that only the caller can
// compare (a line, a token position), so the table stores no key bytes:
// a hash match is confirmed by the caller's `same(index)`. Open addressing
// with linear probing over a power-of-two prefix of `slots_`, at most half
// full. A slot is empty unless it carries the current generation, so that
// Reset() costs nothing per slot.
class CountTable {
 public:
  struct Entry {
    uint64_t hash;
    uint32_t index;  // the caller's key: the first position it was seen at
    uint32_t count;  // 0 until the caller counts it
  };

  // Makes the table empty, with room for `keys` distinct keys (fewer than
  // 2^31: a document has fewer tokens than [input].max_line_bytes allows).
  void Reset(size_t keys) {
    const size_t capacity = std::bit_ceil(std::max<size_t>(16, 2 * keys));
    if (++generation_ == 0) {  // wrapped: forget every old stamp
      std::fill(slots_.begin(), slots_.end(), Slot{});
      generation_ = 1;
    }
    if (slots_.size() < capacity) slots_.resize(capacity);
    mask_ = capacity - 1;
    if (entries_.size() < keys) entries_.resize(keys);
    used_ = 0;
  }

  // The entry of the key with this hash for which same(entry.index) is
  // true, added with count 0 (and index `index`) when there is none.
  template <class Same>
  Entry& Find(uint64_t hash, size_t index, const Same& same) {
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      Slot& slot = slots_[i];
      if (slot.generation != generation_) {
        slot = {used_, generation_};
        Entry& entry = entries_[used_++];
        entry = {hash, static_cast<uint32_t>(index), 0};
        return entry;
      }
      Entry& entry = entries_[slot.entry];
      if (entry.hash == hash && same(entry.index)) return entry;
    }
  }

  // In the order the keys were first seen.
  std::span<const Entry> entries() const {
    return std::span(entries_).first(used_);
  }

 private:
  // Small, so that a document's table stays in the nearest caches.
  struct Slot {
    uint32_t entry = 0;       // index into entries_
    uint32_t generation = 0;  // empty unless generation_
  };
  std::vector<Slot> slots_;
  std::vector<Entry> entries_;  // the first used_ are in use
  uint32_t used_ = 0;
  size_t mask_ = 0;
  uint32_t generation_ = 0;
};

// One thread's buffers, reused from document to document.
struct Scratch {
  std::vector<std::string_view> pieces;  // paragraphs, then lines
  std::vector<std::string_view> tokens;
  std::string joined;                 // the tokens, no separator
  std::vector<size_t> token_start;    // byte offsets into joined; +1 end
  std::vector<int64_t> chars_before;  // code points of tokens before i
  std::vector<uint64_t> token_hash;   // xxh3 of each token
  CountTable table;
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

uint64_t Hash(const void* data, size_t bytes) {
  return XXH3_64bits(data, bytes);
}

struct Duplicates {
  int64_t pieces = 0;  // pieces equal to an earlier one
  int64_t chars = 0;   // their code points
};

// datatrove's find_duplicates: every piece equal to an earlier piece counts.
Duplicates FindDuplicates(std::span<const std::string_view> pieces,
                          CountTable& table) {
  Duplicates dup;
  table.Reset(pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i) {
    const std::string_view piece = pieces[i];
    CountTable::Entry& entry =
        table.Find(Hash(piece.data(), piece.size()), i,
                   [&](size_t earlier) { return pieces[earlier] == piece; });
    if (entry.count++ > 0) {
      ++dup.pieces;
      dup.chars += py::Length(piece);
    }
  }
  return dup;
}

// Splits at each run of `min_run` or more '\n' (re.split(r"\n{k,}")).
void SplitAtNewlineRuns(std::string_view text, size_t min_run,
                        std::vector<std::string_view>* out) {
  const std::string run(min_run, '\n');
  size_t start = 0;
  for (size_t pos = text.find(run); pos != std::string_view::npos;
       pos = text.find(run, start)) {
    out->push_back(text.substr(start, pos - start));
    start = text.find_first_not_of('\n', pos);
    if (start == std::string_view::npos) start = text.size();
  }
  out->push_back(text.substr(start));
}

double Fraction(int64_t part, int64_t whole) {
  return whole == 0 ? 0.0
                    : static_cast<double>(part) / static_cast<double>(whole);
}

// The tokens of one document, laid out for n-gram hashing.
class Tokens {
 public:
  explicit Tokens(Scratch& s) : s_(s) {}

  void Load(std::string_view text) {
    s_.tokens.clear();
    words::SplitWords(text, &s_.tokens);
    s_.joined.clear();
    s_.token_start.assign(1, 0);
    s_.chars_before.assign(1, 0);
    s_.token_hash.clear();
    for (const std::string_view token : s_.tokens) {
      s_.joined += token;
      s_.token_start.push_back(s_.joined.size());
      s_.chars_before.push_back(s_.chars_before.back() + py::Length(token));
      s_.token_hash.push_back(Hash(token.data(), token.size()));
    }
  }

  size_t size() const { return s_.tokens.size(); }
  // Code points of tokens [i, i + n), without separators.
  int64_t Chars(size_t i, size_t n) const {
    return s_.chars_before[i + n] - s_.chars_before[i];
  }
  // The bytes of tokens [i, i + n) joined without separators.
  std::string_view Joined(size_t i, size_t n) const {
    return std::string_view(s_.joined).substr(
        s_.token_start[i], s_.token_start[i + n] - s_.token_start[i]);
  }
  // A hash of the token sequence [i, i + n), mixed from the tokens' hashes
  // (multiply-xorshift: collisions only cost a comparison).
  uint64_t SequenceHash(size_t i, size_t n) const {
    uint64_t h = 0;
    for (size_t k = 0; k < n; ++k) {
      h = (h ^ s_.token_hash[i + k]) * 0x9E3779B97F4A7C15u;
      h ^= h >> 29;
    }
    return h;
  }
  bool SameSequence(size_t i, size_t j, size_t n) const {
    return std::equal(s_.tokens.begin() + static_cast<ptrdiff_t>(i),
                      s_.tokens.begin() + static_cast<ptrdiff_t>(i + n),
                      s_.tokens.begin() + static_cast<ptrdiff_t>(j));
  }

 private:
  Scratch& s_;
};

// datatrove's find_top_duplicate on " ".join n-grams: the characters of the
// most frequent n-gram (spaces included) times its count; among equally
// frequent n-grams, the one seen first (Counter.most_common keeps insertion
// order). 0 when there are fewer than n tokens.
int64_t TopNgramChars(const Tokens& tokens, size_t n, CountTable& table) {
  if (tokens.size() < n) return 0;
  const size_t ngrams = tokens.size() - n + 1;
  table.Reset(ngrams);
  for (size_t i = 0; i < ngrams; ++i) {
    ++table
          .Find(tokens.SequenceHash(i, n), i,
                [&](size_t earlier) {
                  return tokens.SameSequence(earlier, i, n);
                })
          .count;
  }
  const CountTable::Entry* top = nullptr;
  for (const CountTable::Entry& entry : table.entries()) {
    if (top == nullptr || entry.count > top->count) top = &entry;
  }
  const auto spaces = static_cast<int64_t>(n - 1);
  return (tokens.Chars(top->index, n) + spaces) * top->count;
}

// datatrove's find_all_duplicate on "".join n-grams: walking left to right,
// an n-gram seen before adds its characters and moves the walk n tokens on;
// a new one is remembered and moves it one token on. The n-grams jumped
// over are never remembered.
int64_t DuplicateNgramChars(const Tokens& tokens, size_t n, CountTable& table) {
  if (tokens.size() < n) return 0;
  const size_t ngrams = tokens.size() - n + 1;
  table.Reset(ngrams);
  int64_t repeated_chars = 0;
  for (size_t i = 0; i < ngrams;) {
    const std::string_view text = tokens.Joined(i, n);
    CountTable::Entry& entry = table.Find(
        Hash(text.data(), text.size()), i,
        [&](size_t earlier) { return tokens.Joined(earlier, n) == text; });
    if (entry.count++ > 0) {
      repeated_chars += tokens.Chars(i, n);
      i += n;
    } else {
      ++i;
    }
  }
  return repeated_chars;
}

}  // namespace

GopherRepetition::Measures GopherRepetition::Measure(std::string_view text) {
  Scratch& s = ThreadScratch();
  Measures m;
  const int64_t chars = py::Length(text);

  s.pieces.clear();
  SplitAtNewlineRuns(py::Strip(text), 2, &s.pieces);
  const Duplicates paras = FindDuplicates(s.pieces, s.table);
  m.dup_para_frac =
      Fraction(paras.pieces, static_cast<int64_t>(s.pieces.size()));
  m.dup_para_char_frac = Fraction(paras.chars, chars);

  s.pieces.clear();
  SplitAtNewlineRuns(text, 1, &s.pieces);
  const Duplicates lines = FindDuplicates(s.pieces, s.table);
  m.dup_line_frac =
      Fraction(lines.pieces, static_cast<int64_t>(s.pieces.size()));
  m.dup_line_char_frac = Fraction(lines.chars, chars);

  Tokens tokens(s);
  tokens.Load(text);
  for (size_t i = 0; i < m.top_ngram_frac.size(); ++i) {
    m.top_ngram_frac[i] =
        Fraction(TopNgramChars(tokens, kMinTopN + i, s.table), chars);
  }
  for (size_t i = 0; i < m.dup_ngram_frac.size(); ++i) {
    m.dup_ngram_frac[i] =
        Fraction(DuplicateNgramChars(tokens, kMinDupN + i, s.table), chars);
  }
  return m;
}

Reason GopherRepetition::Verdict(const Measures& m) const {
  const Options& o = options_;
  // (measured, threshold, reason) in datatrove's order; 0 turns a rule off.
  const struct {
    double value;
    double max;
    Reason reason;
  } rules[] = {
      {m.dup_para_frac, o.dup_para_frac, Reason::kGopherDupParaFrac},
      {m.dup_para_char_frac, o.dup_para_char_frac,
       Reason::kGopherDupParaCharFrac},
      {m.dup_line_frac, o.dup_line_frac, Reason::kGopherDupLineFrac},
      {m.dup_line_char_frac, o.dup_line_char_frac,
       Reason::kGopherDupLineCharFrac},
      {m.top_ngram_frac[0], o.top_2gram_frac, Reason::kGopherTop2gram},
      {m.top_ngram_frac[1], o.top_3gram_frac, Reason::kGopherTop3gram},
      {m.top_ngram_frac[2], o.top_4gram_frac, Reason::kGopherTop4gram},
      {m.dup_ngram_frac[0], o.dup_5gram_frac, Reason::kGopherDup5gram},
      {m.dup_ngram_frac[1], o.dup_6gram_frac, Reason::kGopherDup6gram},
      {m.dup_ngram_frac[2], o.dup_7gram_frac, Reason::kGopherDup7gram},
      {m.dup_ngram_frac[3], o.dup_8gram_frac, Reason::kGopherDup8gram},
      {m.dup_ngram_frac[4], o.dup_9gram_frac, Reason::kGopherDup9gram},
      {m.dup_ngram_frac[5], o.dup_10gram_frac, Reason::kGopherDup10gram},
  };
  for (const auto& rule : rules) {
    if (rule.max != 0 && rule.value > rule.max) return rule.reason;
  }
  return Reason::kOk;
}

void GopherRepetition::Process(std::span<Document> docs) const {
  static constexpr std::string_view kTopKeys[] = {"gopher_rep.top_2gram_frac",
                                                  "gopher_rep.top_3gram_frac",
                                                  "gopher_rep.top_4gram_frac"};
  static constexpr std::string_view kDupKeys[] = {
      "gopher_rep.dup_5gram_frac", "gopher_rep.dup_6gram_frac",
      "gopher_rep.dup_7gram_frac", "gopher_rep.dup_8gram_frac",
      "gopher_rep.dup_9gram_frac", "gopher_rep.dup_10gram_frac"};
  for (Document& doc : docs) {
    if (!doc.ok() || words::SkipsLanguage(doc, options_.skip_languages)) {
      continue;
    }
    const Measures m = Measure(doc.text);
    doc.signals.push_back({"gopher_rep.dup_para_frac", m.dup_para_frac});
    doc.signals.push_back(
        {"gopher_rep.dup_para_char_frac", m.dup_para_char_frac});
    doc.signals.push_back({"gopher_rep.dup_line_frac", m.dup_line_frac});
    doc.signals.push_back(
        {"gopher_rep.dup_line_char_frac", m.dup_line_char_frac});
    for (size_t i = 0; i < m.top_ngram_frac.size(); ++i) {
      doc.signals.push_back({kTopKeys[i], m.top_ngram_frac[i]});
    }
    for (size_t i = 0; i < m.dup_ngram_frac.size(); ++i) {
      doc.signals.push_back({kDupKeys[i], m.dup_ngram_frac[i]});
    }
    const Reason reason = Verdict(m);
    if (reason != Reason::kOk) Reject(doc, reason);
  }
}

}  // namespace needle
