#include "filters/gopher_repetition.h"

// Inlined: most keys hashed here are a few dozen bytes, where a call into
// the shared library costs as much as the hashing.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <span>
#include <type_traits>

#include "filters/python_text.h"
#include "filters/words.h"

namespace needle {
namespace {

namespace py = python_text;

// Finds keys by hash: open addressing with linear probing over a
// power-of-two prefix of `slots_`. A key is an index that only the caller
// can compare (a line, a token position); each 8-byte slot keeps the key's
// first index and 16 bits of its hash, so that a probe past another key
// seldom looks that key up, and `same` (the exact comparison) runs only
// when those bits match: a hash collision costs time, never a wrong answer.
// A slot is empty unless it carries the current generation, so that
// Reset() costs nothing per slot.
class KeyIndex {
 public:
  // Makes the index empty, with room for `keys` distinct keys (fewer than
  // 2^31: a document has fewer tokens than [input].max_line_bytes allows).
  // Eight slots a key, up to kRoomySlots, so that a probe seldom meets
  // another key (a tag compare, and a mispredicted branch: twice the time
  // at four slots a key); at most half full beyond.
  void Reset(size_t keys) {
    const size_t capacity = std::bit_ceil(
        std::max({size_t{16}, 2 * keys, std::min(8 * keys, kRoomySlots)}));
    if (++generation_ == 0) {  // wrapped: forget every old stamp
      std::fill(slots_.begin(), slots_.end(), Slot{});
      generation_ = 1;
    }
    if (slots_.size() < capacity) slots_.resize(capacity);
    mask_ = capacity - 1;
    shift_ = 64 - std::countr_zero(capacity);
  }

  // Gives back the memory of an unusually large document.
  void Trim() {
    if (slots_.size() > kRoomySlots) {
      slots_ = std::vector<Slot>();
      mask_ = 0;
    }
  }

  // Whether the index outgrows the core's own caches (2 MiB or more), so
  // that a look-up waits for memory unless Prefetch() asked for its slot.
  bool large() const { return mask_ + 1 >= kRoomySlots; }
  // Starts loading the slot where a look-up of `hash` begins: a loop that
  // asks for its look-ups some steps ahead has the slots of a large index
  // on their way from memory, not one at a time. (Of a small one, from a
  // nearer cache, it only costs time.)
  void Prefetch(uint64_t hash) const {
    __builtin_prefetch(&slots_[(hash * kSpread) >> shift_]);
  }

  // The first index of a key with this hash for which same(first) is true;
  // `index` itself, now remembered, when there is none. The slot is picked
  // by the high bits of hash * 2^64/phi (Fibonacci hashing), so weak low
  // bits of `hash` do no harm; the tag is other bits of that product.
  template <class Same>
  uint32_t Find(uint64_t hash, size_t index, const Same& same) {
    const uint64_t spread = hash * kSpread;
    const size_t start = spread >> shift_;
    const auto tag = static_cast<uint16_t>(spread >> 16);
    for (size_t i = start;; i = (i + 1) & mask_) {
      Slot& slot = slots_[i];
      if (slot.generation != generation_) {
        slot = {static_cast<uint32_t>(index), tag, generation_};
        return slot.first;
      }
      if (slot.tag == tag && same(slot.first)) return slot.first;
    }
  }

 private:
  static constexpr size_t kRoomySlots = size_t{1} << 18;    // 2 MiB
  static constexpr uint64_t kSpread = 0x9E3779B97F4A7C15u;  // 2^64 / phi
  struct Slot {
    uint32_t first = 0;       // the key's first index
    uint16_t tag = 0;         // 16 bits of its hash
    uint16_t generation = 0;  // empty unless generation_
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  int shift_ = 64;
  uint16_t generation_ = 0;
};

// splitmix64's finalizer: a bijection of 64-bit values that spreads every
// input bit over every output bit.
constexpr uint64_t Mix(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
  return x ^ (x >> 31);
}

uint64_t Hash(std::string_view bytes) {
  return XXH3_64bits(bytes.data(), bytes.size());
}

// Two tokens of the same size, up to kShortToken bytes, are told apart by
// their hashes alone: their bytes, packed into 64 bits, make a value that
// no other such token has, and Mix keeps it so.
constexpr size_t kShortToken = 8;

// Copies `token` to `out`, which has room for 8 bytes past it, and returns
// its hash. Most tokens are short, and views into `text` (all but the quotes
// that SplitWords makes up): where 8 bytes from a token's start lie in the
// text, one load copies and packs it, with no memcpy call or byte loop.
uint64_t CopyAndHash(std::string_view token, std::string_view text, char* out) {
  if (token.size() > kShortToken) {
    std::memcpy(out, token.data(), token.size());
    return Hash(token);
  }
  const auto at = reinterpret_cast<uintptr_t>(token.data());
  const auto begin = reinterpret_cast<uintptr_t>(text.data());
  if constexpr (std::endian::native == std::endian::little) {
    if (at >= begin && at - begin + 8 <= text.size()) {
      uint64_t bytes = 0;
      std::memcpy(&bytes, token.data(), 8);
      std::memcpy(out, &bytes, 8);
      const uint64_t keep = token.size() == 8
                                ? ~uint64_t{0}
                                : (uint64_t{1} << (8 * token.size())) - 1;
      return Mix(bytes & keep);  // as the loop below packs it
    }
  }
  uint64_t packed = 0;
  for (size_t k = 0; k < token.size(); ++k) {
    out[k] = token[k];
    packed |= uint64_t{static_cast<uint8_t>(token[k])} << (8 * k);
  }
  return Mix(packed);
}

// A token position where an n-gram may repeat, for some n of the
// duplicate rules: see DuplicateCandidates.
struct Candidate {
  uint32_t position;
  // The n-gram there may repeat for n < unique_from; from there on its
  // bytes are unique.
  uint32_t unique_from;
};

// One thread's buffers, reused from document to document.
struct Scratch {
  std::vector<std::string_view> pieces;  // paragraphs, then lines
  std::vector<uint64_t> piece_hash;      // xxh3 of each piece
  std::vector<std::string_view> tokens;  // when the caller gives none
  std::string joined;                    // the tokens, no separator
  std::vector<size_t> token_start;       // byte offsets into joined; +1 end
  std::vector<uint64_t> token_hash;      // CopyAndHash of each token
  std::vector<uint32_t> positions;       // see TopNgramChars
  std::vector<uint32_t> first;           // the first equal key, by index
  std::vector<uint32_t> count;           // how often a key occurs, by first
  std::vector<Candidate> candidates;     // see DuplicateCandidates
  KeyIndex index;

  // Gives back the memory of an unusually large document.
  void Trim() {
    constexpr size_t kKeptBytes = size_t{4} << 20;
    const auto release = [&](auto& buffer) {
      if (buffer.capacity() * sizeof(buffer[0]) > kKeptBytes) {
        buffer = std::remove_reference_t<decltype(buffer)>();
      }
    };
    release(pieces);
    release(piece_hash);
    release(tokens);
    release(joined);
    release(token_start);
    release(token_hash);
    release(first);
    release(count);
    release(positions);
    release(candidates);
    index.Trim();
  }
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

struct Duplicates {
  int64_t pieces = 0;  // pieces equal to an earlier one
  int64_t chars = 0;   // their code points
};

// datatrove's find_duplicates: every piece equal to an earlier piece counts.
Duplicates FindDuplicates(std::span<const std::string_view> pieces,
                          std::vector<uint64_t>& hashes, KeyIndex& index) {
  Duplicates dup;
  index.Reset(pieces.size());
  hashes.clear();
  for (size_t i = 0; i < pieces.size(); ++i) {
    const std::string_view piece = pieces[i];
    hashes.push_back(Hash(piece));
    const uint32_t first = index.Find(
        hashes[i], i, [&](size_t earlier) { return pieces[earlier] == piece; });
    if (first != i) {
      ++dup.pieces;
      dup.chars += py::Length(piece);
    }
  }
  return dup;
}

// How many look-ups ahead a loop prefetches the index's slots (KeyIndex::
// Prefetch).
constexpr size_t kAhead = 16;

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

// The tokens of one document, laid out for n-gram keys: their bytes joined
// without separators (so that the joined text of any n tokens is one run of
// bytes), and a hash of each.
class Tokens {
 public:
  // See DuplicateCandidates.
  static constexpr size_t kWindow = 16;

  // `tokens` split from `text`.
  Tokens(Scratch& s, std::string_view text,
         std::span<const std::string_view> tokens)
      : s_(s), tokens_(tokens) {
    const size_t count = tokens_.size();
    s_.token_start.resize(count + 1);
    s_.token_hash.resize(count);
    size_t start = 0;
    for (size_t i = 0; i < count; ++i) {
      s_.token_start[i] = start;
      start += tokens_[i].size();
    }
    s_.token_start[count] = start;
    joined_ = start;
    s_.joined.resize(joined_ + 8);  // CopyAndHash's room
    for (size_t i = 0; i < count; ++i) {
      s_.token_hash[i] =
          CopyAndHash(tokens_[i], text, s_.joined.data() + s_.token_start[i]);
    }
  }

  size_t size() const { return tokens_.size(); }
  // The bytes of tokens [i, i + n) joined without separators.
  std::string_view Joined(size_t i, size_t n) const {
    return std::string_view(s_.joined).substr(
        s_.token_start[i], s_.token_start[i + n] - s_.token_start[i]);
  }
  // Code points of tokens [i, i + n), without separators.
  int64_t Chars(size_t i, size_t n) const { return py::Length(Joined(i, n)); }
  // The size of Joined(i, n) in bytes.
  size_t Bytes(size_t i, size_t n) const {
    return s_.token_start[i + n] - s_.token_start[i];
  }
  // Whether the joined bytes from token i's start run to kWindow or more.
  bool HasWindow(size_t i) const {
    return s_.token_start[i] + kWindow <= joined_;
  }
  // The kWindow bytes of the joined text from token i's start.
  std::string_view Window(size_t i) const {
    return std::string_view(s_.joined).substr(s_.token_start[i], kWindow);
  }
  // A hash of Window(i).
  uint64_t WindowHash(size_t i) const {
    uint64_t low = 0;
    uint64_t high = 0;
    static_assert(kWindow == sizeof(low) + sizeof(high));
    std::memcpy(&low, s_.joined.data() + s_.token_start[i], sizeof(low));
    std::memcpy(&high, s_.joined.data() + s_.token_start[i] + sizeof(low),
                sizeof(high));
    return Mix(low + Mix(high));
  }
  // A hash of the token sequence [i, i + n), for small n: the tokens'
  // hashes combined by multiply-add.
  uint64_t SequenceHash(size_t i, size_t n) const {
    uint64_t hash = s_.token_hash[i];
    for (size_t k = 1; k < n; ++k) {
      hash = hash * kSequenceBase + s_.token_hash[i + k];
    }
    return hash;
  }
  bool SameSequence(size_t i, size_t j, size_t n) const {
    for (size_t k = 0; k < n; ++k) {
      if (s_.token_hash[i + k] != s_.token_hash[j + k]) return false;
      const std::string_view a = tokens_[i + k];
      const std::string_view b = tokens_[j + k];
      if (a.size() != b.size() || (a.size() > kShortToken && a != b)) {
        return false;
      }
    }
    return true;
  }

 private:
  static constexpr uint64_t kSequenceBase = 0xC2B2AE3D27D4EB4Fu;
  Scratch& s_;
  std::span<const std::string_view> tokens_;
  size_t joined_ = 0;  // the size of the joined tokens in s_.joined
};

// datatrove's find_top_duplicate on " ".join n-grams: the characters of the
// most frequent n-gram (spaces included) times its count; among equally
// frequent n-grams, the one seen first (Counter.most_common keeps insertion
// order). 0 when there are fewer than n tokens.
//
// An n-gram can repeat only where its first n - 1 tokens do, so only those
// positions are counted: s.positions holds, in order, the positions whose
// (n-1)-gram occurs more than once (every position for the smallest n), and
// on return those whose n-gram does, for the next n. When no n-gram
// repeats, the top one is the first, once.
int64_t TopNgramChars(const Tokens& tokens, size_t n, Scratch& s) {
  if (tokens.size() < n) return 0;
  const size_t ngrams = tokens.size() - n + 1;
  std::vector<uint32_t>& positions = s.positions;
  while (!positions.empty() && positions.back() >= ngrams) {
    positions.pop_back();  // an (n-1)-gram at the end, with no n-gram
  }
  const size_t count = positions.size();
  // The table holds indices into `positions`; `first` and `count` are by
  // index too.
  s.index.Reset(count);
  s.first.resize(count);
  s.count.assign(count, 0);
  uint32_t top_count = 1;
  size_t top_position = 0;
  const bool prefetch = s.index.large();
  for (size_t k = 0; k < count; ++k) {
    if (prefetch && k + kAhead < count) {
      s.index.Prefetch(tokens.SequenceHash(positions[k + kAhead], n));
    }
    const size_t i = positions[k];
    const uint32_t first =
        s.index.Find(tokens.SequenceHash(i, n), k, [&](size_t earlier) {
          return tokens.SameSequence(positions[earlier], i, n);
        });
    s.first[k] = first;
    // Counts only grow, so the leader changes only when another n-gram's
    // count passes it, or equals it having been seen first.
    const uint32_t ngram_count = ++s.count[first];
    const size_t first_position = positions[first];
    if (ngram_count > top_count ||
        (ngram_count == top_count && first_position < top_position)) {
      top_count = ngram_count;
      top_position = first_position;
    }
  }
  size_t repeated = 0;
  for (size_t k = 0; k < count; ++k) {
    positions[repeated] = positions[k];
    repeated += s.count[s.first[k]] > 1;
  }
  positions.resize(repeated);
  const auto spaces = static_cast<int64_t>(n - 1);
  return (tokens.Chars(top_position, n) + spaces) * top_count;
}

// The positions whose n-grams may repeat, for n = min_n ... max_n, in
// order. An n-gram can equal another only if the joined text from its start
// does, so one look-up per token finds the tokens at whose start the next
// Tokens::kWindow bytes occur only there: from the n for which the n-gram
// has that many bytes on, it occurs only there too. The walks below look up
// only the rest, about a tenth of the n-grams of English prose.
void DuplicateCandidates(const Tokens& tokens, size_t min_n, size_t max_n,
                         Scratch& s, std::vector<Candidate>* candidates) {
  const size_t count = tokens.size();
  s.index.Reset(count);
  s.first.resize(count);
  s.count.assign(count, 0);
  size_t windows = 0;
  while (windows < count && tokens.HasWindow(windows)) ++windows;
  const bool prefetch = s.index.large();
  for (size_t i = 0; i < windows; ++i) {
    if (prefetch && i + kAhead < windows) {
      s.index.Prefetch(tokens.WindowHash(i + kAhead));
    }
    const std::string_view window = tokens.Window(i);
    const uint32_t first = s.index.Find(
        tokens.WindowHash(i), i,
        [&](size_t earlier) { return tokens.Window(earlier) == window; });
    s.first[i] = first;
    ++s.count[first];
  }
  // Those that may repeat for some n, packed without a branch on each.
  candidates->resize(count);
  size_t kept = 0;
  const auto never = static_cast<uint32_t>(max_n + 1);
  for (size_t i = 0; i + min_n <= count; ++i) {
    uint32_t unique_from = never;
    if (i < windows && s.count[s.first[i]] == 1) {
      // The smallest n whose n-gram has kWindow bytes: the byte counts grow
      // with n (an n past the last token counts as short, as if longer
      // n-grams were there: the walks stop before it anyway).
      unique_from = static_cast<uint32_t>(min_n);
      for (size_t n = min_n; n <= max_n; ++n) {
        unique_from +=
            tokens.Bytes(i, std::min(n, count - i)) < Tokens::kWindow;
      }
    }
    (*candidates)[kept] = {static_cast<uint32_t>(i), unique_from};
    kept += unique_from > min_n;
  }
  candidates->resize(kept);
}

// datatrove's find_all_duplicate on "".join n-grams: walking left to right,
// an n-gram seen before adds its characters and moves the walk n tokens on;
// a new one is remembered and moves it one token on. The n-grams jumped
// over are never remembered. An n-gram that occurs once in the text is
// new, and remembering it changes no later answer, so the walk looks only
// at the `candidates` (DuplicateCandidates) that may repeat. Keyed by their
// joined bytes, so that two splits with the same concatenation are the
// same n-gram.
int64_t DuplicateNgramChars(const Tokens& tokens, size_t n,
                            std::span<const Candidate> candidates,
                            KeyIndex& index) {
  if (tokens.size() < n) return 0;
  index.Reset(candidates.size());
  int64_t repeated_chars = 0;
  size_t next = 0;  // where the walk goes on after a repeat
  for (const Candidate& candidate : candidates) {
    const size_t i = candidate.position;
    if (i + n > tokens.size()) break;
    if (i < next || n >= candidate.unique_from) continue;
    const std::string_view joined = tokens.Joined(i, n);
    const uint32_t first = index.Find(Hash(joined), i, [&](size_t earlier) {
      return tokens.Joined(earlier, n) == joined;
    });
    if (first != i) {
      repeated_chars += py::Length(joined);
      next = i + n;
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
  const Duplicates paras = FindDuplicates(s.pieces, s.piece_hash, s.index);
  m.dup_para_frac =
      Fraction(paras.pieces, static_cast<int64_t>(s.pieces.size()));
  m.dup_para_char_frac = Fraction(paras.chars, chars);

  s.pieces.clear();
  SplitAtNewlineRuns(text, 1, &s.pieces);
  const Duplicates lines = FindDuplicates(s.pieces, s.piece_hash, s.index);
  m.dup_line_frac =
      Fraction(lines.pieces, static_cast<int64_t>(s.pieces.size()));
  m.dup_line_char_frac = Fraction(lines.chars, chars);

  const Tokens tokens(s, text, words);
  s.positions.resize(tokens.size());
  std::iota(s.positions.begin(), s.positions.end(), 0);
  for (size_t i = 0; i < m.top_ngram_frac.size(); ++i) {
    m.top_ngram_frac[i] =
        Fraction(TopNgramChars(tokens, kMinTopN + i, s), chars);
  }
  const size_t max_dup_n = kMinDupN + m.dup_ngram_frac.size() - 1;
  DuplicateCandidates(tokens, kMinDupN, max_dup_n, s, &s.candidates);
  for (size_t i = 0; i < m.dup_ngram_frac.size(); ++i) {
    m.dup_ngram_frac[i] = Fraction(
        DuplicateNgramChars(tokens, kMinDupN + i, s.candidates, s.index),
        chars);
  }
  s.Trim();
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
