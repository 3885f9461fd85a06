#include "filters/gopher_repetition.h"

// Inlined: most keys hashed here are a few dozen bytes, where a call into
// the shared library costs as much as the hashing.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <span>

#include "filters/python_text.h"
#include "filters/words.h"

namespace needle {
namespace {

namespace py = python_text;

// Counts distinct keys by 64-bit hash. A key is an index that only the
// caller can hash and compare (a line, a token position), so the table
// stores neither key bytes nor hashes: a probe recomputes the hash of the
// index it finds (`hash_of`, O(1) for every caller) and confirms a match with
// `same`. Open addressing with linear probing over a power-of-two prefix of
// `slots_`, at most half full. Slots are 8 bytes, so that a document's table
// stays in the nearest caches: probing is what the n-gram rules spend their
// time on. A slot is empty unless it carries the current generation, so
// that Reset() costs nothing per slot.
class CountTable {
 public:
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
    shift_ = 64 - std::countr_zero(capacity);
    counts_.assign(keys, 0);
  }

  // The first index of the key with this hash for which same(first) is
  // true; `index` itself, now remembered, when there is none. Its count
  // starts at 0. The slot is picked by the high bits of hash * 2^64/phi
  // (Fibonacci hashing), so weak low bits of `hash` do no harm.
  template <class HashOf, class Same>
  uint32_t Find(uint64_t hash, size_t index, const HashOf& hash_of,
                const Same& same) {
    const size_t start = (hash * 0x9E3779B97F4A7C15u) >> shift_;
    for (size_t i = start;; i = (i + 1) & mask_) {
      Slot& slot = slots_[i];
      if (slot.generation != generation_) {
        slot = {static_cast<uint32_t>(index), generation_};
        return slot.index;
      }
      if (hash_of(slot.index) == hash && same(slot.index)) return slot.index;
    }
  }
  // The count of the key first seen at `first`, for the caller to change.
  uint32_t& count(uint32_t first) { return counts_[first]; }

 private:
  struct Slot {
    uint32_t index = 0;       // the key's first index
    uint32_t generation = 0;  // empty unless generation_
  };
  std::vector<Slot> slots_;
  std::vector<uint32_t> counts_;  // by first index
  size_t mask_ = 0;
  int shift_ = 64;
  uint32_t generation_ = 0;
};

// Polynomial hashes mod 2^64 of every prefix make the hash of any run of
// tokens O(1): sum(x[p] * B^p) over the run, times B^-start (B is odd, so
// invertible mod 2^64). Weak in the low bits (CountTable picks slots by the
// high bits) and not collision-resistant (CountTable compares keys on every
// hash match): a collision costs time, never a wrong count.
constexpr uint64_t kByteBase = 0x100000001B3u;  // FNV-1a 64's prime
constexpr uint64_t kTokenBase = 0xC2B2AE3D27D4EB4Fu;

constexpr uint64_t InverseMod2To64(uint64_t odd) {
  uint64_t x = odd;  // correct to 3 bits; each Newton step doubles that
  for (int i = 0; i < 5; ++i) x *= 2 - odd * x;
  return x;
}
static_assert(kByteBase * InverseMod2To64(kByteBase) == 1);
static_assert(kTokenBase * InverseMod2To64(kTokenBase) == 1);

// Running sums for prefix polynomial hashes: after Add()s of x_0 ... x_k-1,
// sum = sum(x_p * B^p), power = B^k, inverse = B^-k.
struct PrefixHash {
  uint64_t base;
  uint64_t inverse_base;
  uint64_t sum = 0;
  uint64_t power = 1;
  uint64_t inverse = 1;

  void Add(uint64_t x) {
    sum += x * power;
    power *= base;
    inverse *= inverse_base;
  }
};

// kByteBase^k and kByteBase^-k for k < kSize, so that a token's bytes are
// summed with independent multiplies instead of one serial chain.
struct BytePowers {
  static constexpr size_t kSize = 64;
  std::array<uint64_t, kSize> power{};
  std::array<uint64_t, kSize> inverse{};

  constexpr BytePowers() {
    power[0] = inverse[0] = 1;
    for (size_t k = 1; k < kSize; ++k) {
      power[k] = power[k - 1] * kByteBase;
      inverse[k] = inverse[k - 1] * InverseMod2To64(kByteBase);
    }
  }
};
constexpr BytePowers kBytePowers;

// One token's bytes as a polynomial: sum((c_k + 1) * kByteBase^k) (+1: a
// zero byte would add nothing), with kByteBase^len, its inverse, and the
// token's code points, all in one pass over the bytes.
struct TokenBytes {
  uint64_t sum = 0;
  uint64_t power = 1;
  uint64_t inverse = 1;
  int64_t chars = 0;

  explicit TokenBytes(std::string_view token) {
    constexpr size_t kChunk = BytePowers::kSize - 1;
    for (size_t begin = 0; begin < token.size(); begin += kChunk) {
      const size_t size = std::min(kChunk, token.size() - begin);
      uint64_t chunk = 0;
      for (size_t k = 0; k < size; ++k) {
        const auto c = static_cast<uint8_t>(token[begin + k]);
        chunk += (c + 1u) * kBytePowers.power[k];
        chars += (c & 0xC0) != 0x80;  // py::Length, byte by byte
      }
      sum += chunk * power;
      power *= kBytePowers.power[size];
      inverse *= kBytePowers.inverse[size];
    }
  }
};

// Each prefix's (sum, inverse) pair, one per token boundary.
struct Prefix {
  uint64_t sum;
  uint64_t inverse;
};

// The hash of the run between two token boundaries.
uint64_t RunHash(const Prefix& begin, const Prefix& end) {
  return (end.sum - begin.sum) * begin.inverse;
}

// One thread's buffers, reused from document to document.
struct Scratch {
  std::vector<std::string_view> pieces;  // paragraphs, then lines
  std::vector<uint64_t> piece_hash;      // xxh3 of each piece
  std::vector<std::string_view> tokens;  // when the caller gives none
  std::string joined;                    // the tokens, no separator
  std::vector<size_t> token_start;       // byte offsets into joined; +1 end
  std::vector<int64_t> chars_before;     // code points of tokens before i
  std::vector<Prefix> byte_prefix;       // of joined's bytes, at token starts
  std::vector<Prefix> token_prefix;      // of the tokens' byte polynomials
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
                          std::vector<uint64_t>& hashes, CountTable& table) {
  Duplicates dup;
  table.Reset(pieces.size());
  hashes.clear();
  for (size_t i = 0; i < pieces.size(); ++i) {
    const std::string_view piece = pieces[i];
    hashes.push_back(Hash(piece.data(), piece.size()));
    const uint32_t first = table.Find(
        hashes[i], i, [&](size_t earlier) { return hashes[earlier]; },
        [&](size_t earlier) { return pieces[earlier] == piece; });
    if (table.count(first)++ > 0) {
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

// The tokens of one document, laid out for n-gram hashing: each token's
// bytes and hash are read once, after which any n-gram's hash is O(1).
class Tokens {
 public:
  Tokens(Scratch& s, std::span<const std::string_view> tokens)
      : s_(s), tokens_(tokens) {
    s_.joined.clear();
    s_.token_start.assign(1, 0);
    s_.chars_before.assign(1, 0);
    // Prefixes of joined's bytes: sum((c_p + 1) * kByteBase^p), p < start.
    uint64_t byte_sum = 0;
    uint64_t byte_power = 1;
    uint64_t byte_inverse = 1;
    // Prefixes of the token sequence, each token standing for its bytes'
    // polynomial (equal tokens, equal values).
    PrefixHash sequence{kTokenBase, InverseMod2To64(kTokenBase)};
    s_.byte_prefix.assign(1, {byte_sum, byte_inverse});
    s_.token_prefix.assign(1, {sequence.sum, sequence.inverse});
    for (const std::string_view token : tokens_) {
      const TokenBytes bytes(token);
      s_.joined += token;
      s_.token_start.push_back(s_.joined.size());
      s_.chars_before.push_back(s_.chars_before.back() + bytes.chars);
      byte_sum += bytes.sum * byte_power;
      byte_power *= bytes.power;
      byte_inverse *= bytes.inverse;
      s_.byte_prefix.push_back({byte_sum, byte_inverse});
      sequence.Add(bytes.sum);
      s_.token_prefix.push_back({sequence.sum, sequence.inverse});
    }
  }

  size_t size() const { return tokens_.size(); }
  // Code points of tokens [i, i + n), without separators.
  int64_t Chars(size_t i, size_t n) const {
    return s_.chars_before[i + n] - s_.chars_before[i];
  }
  // The bytes of tokens [i, i + n) joined without separators.
  std::string_view Joined(size_t i, size_t n) const {
    return std::string_view(s_.joined).substr(
        s_.token_start[i], s_.token_start[i + n] - s_.token_start[i]);
  }
  // A hash of Joined(i, n): equal byte strings, equal hashes, however
  // they are split into tokens.
  uint64_t JoinedHash(size_t i, size_t n) const {
    return RunHash(s_.byte_prefix[i], s_.byte_prefix[i + n]);
  }
  // A hash of the token sequence [i, i + n).
  uint64_t SequenceHash(size_t i, size_t n) const {
    return RunHash(s_.token_prefix[i], s_.token_prefix[i + n]);
  }
  bool SameSequence(size_t i, size_t j, size_t n) const {
    return std::equal(tokens_.begin() + static_cast<ptrdiff_t>(i),
                      tokens_.begin() + static_cast<ptrdiff_t>(i + n),
                      tokens_.begin() + static_cast<ptrdiff_t>(j));
  }

 private:
  Scratch& s_;
  std::span<const std::string_view> tokens_;
};

// datatrove's find_top_duplicate on " ".join n-grams: the characters of the
// most frequent n-gram (spaces included) times its count; among equally
// frequent n-grams, the one seen first (Counter.most_common keeps insertion
// order). 0 when there are fewer than n tokens.
int64_t TopNgramChars(const Tokens& tokens, size_t n, CountTable& table) {
  if (tokens.size() < n) return 0;
  const size_t ngrams = tokens.size() - n + 1;
  table.Reset(ngrams);
  // The leader so far; counts only grow, so it changes only when another
  // n-gram's count passes it, or equals it having been seen first.
  uint32_t top_count = 0;
  uint32_t top_index = 0;
  for (size_t i = 0; i < ngrams; ++i) {
    const uint32_t first = table.Find(
        tokens.SequenceHash(i, n), i,
        [&](size_t earlier) { return tokens.SequenceHash(earlier, n); },
        [&](size_t earlier) { return tokens.SameSequence(earlier, i, n); });
    const uint32_t count = ++table.count(first);
    if (count > top_count || (count == top_count && first < top_index)) {
      top_count = count;
      top_index = first;
    }
  }
  const auto spaces = static_cast<int64_t>(n - 1);
  return (tokens.Chars(top_index, n) + spaces) * top_count;
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
    const uint32_t first = table.Find(
        tokens.JoinedHash(i, n), i,
        [&](size_t earlier) { return tokens.JoinedHash(earlier, n); },
        [&](size_t earlier) {
          return tokens.Joined(earlier, n) == tokens.Joined(i, n);
        });
    if (first != i) {
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
  s.tokens.clear();
  words::SplitWords(text, &s.tokens);
  return Measure(text, s.tokens);
}

GopherRepetition::Measures GopherRepetition::Measure(
    std::string_view text, std::span<const std::string_view> words) {
  Scratch& s = ThreadScratch();
  Measures m;
  const int64_t chars = py::Length(text);

  s.pieces.clear();
  SplitAtNewlineRuns(py::Strip(text), 2, &s.pieces);
  const Duplicates paras = FindDuplicates(s.pieces, s.piece_hash, s.table);
  m.dup_para_frac =
      Fraction(paras.pieces, static_cast<int64_t>(s.pieces.size()));
  m.dup_para_char_frac = Fraction(paras.chars, chars);

  s.pieces.clear();
  SplitAtNewlineRuns(text, 1, &s.pieces);
  const Duplicates lines = FindDuplicates(s.pieces, s.piece_hash, s.table);
  m.dup_line_frac =
      Fraction(lines.pieces, static_cast<int64_t>(s.pieces.size()));
  m.dup_line_char_frac = Fraction(lines.chars, chars);

  const Tokens tokens(s, words);
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
    const Measures m = Measure(doc.text, words::WordsOf(doc));
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
