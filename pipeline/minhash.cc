#include "pipeline/minhash.h"

#include <utf8proc.h>
#include <xxhash.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

namespace needle {
namespace {

// utf8proc_NFKC_Casefold's flags: NFKC, full case folding, and removal of
// default-ignorable code points (soft hyphen, zero-width space, BOM ...),
// as Unicode's NFKC_Casefold mapping does.
constexpr auto kDecomposeOptions = static_cast<utf8proc_option_t>(
    UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
    UTF8PROC_IGNORE);
constexpr auto kComposeOptions =
    static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE);

// What the normalizer does with a code point once it is in NFKC_Casefold.
enum class Kind : uint8_t { kKeep, kSpace, kDrop };

// Spaces are Unicode White_Space: the Z* categories, \t \n \v \f \r and
// U+0085. Punctuation is the P* categories.
Kind Classify(int32_t cp) {
  if ((cp >= 0x09 && cp <= 0x0D) || cp == 0x85) return Kind::kSpace;
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
      return Kind::kSpace;
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return Kind::kDrop;
    default:
      return Kind::kKeep;
  }
}

// ASCII is its own NFKC and folds to lower case, so ASCII bytes take this
// table instead of utf8proc. It is built with utf8proc, so the two paths
// cannot disagree.
struct AsciiTable {
  std::array<Kind, 128> kind{};
  std::array<char, 128> folded{};
};

const AsciiTable& Ascii() {
  static const AsciiTable table = [] {
    AsciiTable t;
    for (int32_t c = 0; c < 128; ++c) {
      t.kind[c] = Classify(c);
      utf8proc_int32_t out[4];
      int boundclass = 0;
      const utf8proc_ssize_t n =
          utf8proc_decompose_char(c, out, 4, kDecomposeOptions, &boundclass);
      // Every ASCII character maps to one ASCII character.
      const bool one_ascii = n == 1 && out[0] >= 0 && out[0] < 128;
      assert(one_ascii);
      t.folded[c] = static_cast<char>(one_ascii ? out[0] : c);
    }
    return t;
  }();
  return table;
}

// Per-thread scratch, reused so that Compute() allocates nothing once the
// buffers have grown to fit the largest document seen.
struct Scratch {
  std::string text;  // the normalized text is [0, text_size)
  size_t text_size = 0;
  std::vector<int32_t> cps;        // UTF-32 of one non-ASCII segment
  std::vector<size_t> starts;      // word starts in the normalized text
  std::vector<uint32_t> shingles;  // one folded hash per shingle
  std::vector<uint32_t> mins;      // the signature, padded to kLanes
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

// Appends normalized characters to scratch->text. A space is written only
// before the next kept character, so whitespace runs collapse to one space
// and both ends come out trimmed.
class Writer {
 public:
  explicit Writer(Scratch* scratch) : scratch_(scratch) {}
  ~Writer() { scratch_->text_size = size_; }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Makes room for `bytes` more bytes and the pending space.
  void Reserve(size_t bytes) {
    std::string& text = scratch_->text;
    const size_t need = size_ + bytes + 1;
    if (text.size() < need) text.resize(std::max(need, 2 * text.size()));
    out_ = text.data();
  }

  void Put(Kind kind, char ascii) {
    if (kind == Kind::kKeep) {
      if (pending_space_) {
        out_[size_++] = ' ';
        pending_space_ = false;
      }
      out_[size_++] = ascii;
    } else if (kind == Kind::kSpace) {
      pending_space_ = size_ > 0;
    }
  }

  // Put() for each byte of ASCII text, with the state in locals: stores
  // through a char* may alias members, which would keep them in memory.
  void PutAscii(std::string_view text, const AsciiTable& ascii) {
    char* out = out_;
    size_t size = size_;
    bool pending_space = pending_space_;
    for (const char ch : text) {
      const auto c = static_cast<unsigned char>(ch);
      const Kind kind = ascii.kind[c];
      if (kind == Kind::kKeep) {
        if (pending_space) {
          out[size++] = ' ';
          pending_space = false;
        }
        out[size++] = ascii.folded[c];
      } else if (kind == Kind::kSpace) {
        pending_space = size > 0;
      }
    }
    size_ = size;
    pending_space_ = pending_space;
  }

  void Put(int32_t cp) {
    if (cp < 128) {
      const AsciiTable& ascii = Ascii();
      Put(ascii.kind[cp], ascii.folded[cp]);
      return;
    }
    const Kind kind = Classify(cp);
    if (kind == Kind::kKeep) {
      if (pending_space_) {
        out_[size_++] = ' ';
        pending_space_ = false;
      }
      size_ += static_cast<size_t>(utf8proc_encode_char(
          cp, reinterpret_cast<utf8proc_uint8_t*>(out_ + size_)));
    } else if (kind == Kind::kSpace) {
      pending_space_ = size_ > 0;
    }
  }

 private:
  Scratch* scratch_;
  char* out_ = nullptr;
  size_t size_ = 0;
  bool pending_space_ = false;
};

// NFKC_Casefold of `segment` (a run of non-ASCII bytes, with the ASCII
// character before it: a combining mark may compose with it) into
// scratch->cps. Returns the number of code points. Invalid UTF-8 becomes
// U+FFFD, one per byte.
size_t NormalizeSegment(std::string_view segment, Scratch* scratch) {
  // The longest full decomposition (Unicode 15) is 18 code points.
  constexpr size_t kRoom = 32;
  std::vector<int32_t>& cps = scratch->cps;
  size_t used = 0;
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(segment.data());
  size_t pos = 0;
  while (pos < segment.size()) {
    utf8proc_int32_t cp = 0;
    const utf8proc_ssize_t n = utf8proc_iterate(
        bytes + pos, static_cast<utf8proc_ssize_t>(segment.size() - pos), &cp);
    if (n > 0) {
      pos += static_cast<size_t>(n);
    } else {
      cp = 0xFFFD;
      ++pos;
    }
    if (cps.size() < used + kRoom) cps.resize(2 * (used + kRoom));
    int boundclass = 0;
    const utf8proc_ssize_t written = utf8proc_decompose_char(
        cp, cps.data() + used, kRoom, kDecomposeOptions, &boundclass);
    assert(written >= 0 && written <= static_cast<utf8proc_ssize_t>(kRoom));
    if (written > 0) used += static_cast<size_t>(written);
  }
  // Canonical ordering of combining marks, as utf8proc_decompose() does
  // after decompose_char(): a bubble sort by combining class that never
  // moves a character past a starter (class 0).
  size_t i = 0;
  while (i + 1 < used) {
    const int ccc1 = utf8proc_get_property(cps[i])->combining_class;
    const int ccc2 = utf8proc_get_property(cps[i + 1])->combining_class;
    if (ccc1 > ccc2 && ccc2 > 0) {
      std::swap(cps[i], cps[i + 1]);
      if (i > 0) --i;
    } else {
      ++i;
    }
  }
  const utf8proc_ssize_t composed = utf8proc_normalize_utf32(
      cps.data(), static_cast<utf8proc_ssize_t>(used), kComposeOptions);
  assert(composed >= 0);
  return composed > 0 ? static_cast<size_t>(composed) : 0;
}

// Normalizes `text` into scratch->text[0, scratch->text_size). ASCII takes
// the table; each run of non-ASCII bytes goes through utf8proc together
// with the ASCII character before it.
void NormalizeInto(std::string_view text, Scratch* scratch) {
  const AsciiTable& ascii = Ascii();
  Writer writer(scratch);
  const size_t n = text.size();
  size_t pos = 0;
  while (pos < n) {
    size_t end = pos;
    while (end < n && static_cast<unsigned char>(text[end]) < 0x80) ++end;
    const size_t ascii_end = end < n && end > pos ? end - 1 : end;
    writer.Reserve(ascii_end - pos);
    writer.PutAscii(text.substr(pos, ascii_end - pos), ascii);
    if (end == n) break;
    size_t segment_end = end;
    while (segment_end < n &&
           static_cast<unsigned char>(text[segment_end]) >= 0x80) {
      ++segment_end;
    }
    const size_t count = NormalizeSegment(
        text.substr(ascii_end, segment_end - ascii_end), scratch);
    writer.Reserve(4 * count);
    for (size_t i = 0; i < count; ++i) writer.Put(scratch->cps[i]);
    pos = segment_end;
  }
}

// murmur3's 32-bit finalizer: a bijection on uint32 with full avalanche.
inline uint32_t Fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

// The 32-bit value the permutations act on: both halves of the xxh3-64.
inline uint32_t Fold(uint64_t h) {
  return static_cast<uint32_t>(h) ^ static_cast<uint32_t>(h >> 32);
}

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Hash functions are computed in groups of kLanes (one AVX2 register), so
// the inner loop has a fixed trip count that GCC vectorizes at -O2.
constexpr size_t kLanes = 8;

// mins[i] = min(mins[i], min over shingles of Fmix32(shingle ^ seeds[i]))
// for i < lanes (a multiple of kLanes). The hot loop: AVX2 where the CPU
// has it (8 lanes, vpmulld), SSE2 otherwise; chosen at load time.
__attribute__((target_clones("avx2", "default"))) void MinOverShingles(
    const uint32_t* __restrict shingles, size_t count,
    const uint32_t* __restrict seeds, size_t lanes, uint32_t* __restrict mins) {
  size_t j = 0;
  // Two shingles per pass halve the loads and stores of mins.
  for (; j + 2 <= count; j += 2) {
    const uint32_t y0 = shingles[j];
    const uint32_t y1 = shingles[j + 1];
    for (size_t i = 0; i < lanes; i += kLanes) {
      for (size_t l = 0; l < kLanes; ++l) {
        const uint32_t v =
            std::min(Fmix32(y0 ^ seeds[i + l]), Fmix32(y1 ^ seeds[i + l]));
        mins[i + l] = std::min(mins[i + l], v);
      }
    }
  }
  for (; j < count; ++j) {
    const uint32_t y = shingles[j];
    for (size_t i = 0; i < lanes; i += kLanes) {
      for (size_t l = 0; l < kLanes; ++l) {
        mins[i + l] = std::min(mins[i + l], Fmix32(y ^ seeds[i + l]));
      }
    }
  }
}

// The folded xxh3-64 of every word n-gram of normalized text into
// scratch->shingles. A text of fewer than n words (the empty text
// included) is one shingle, the whole text.
void ShingleHashes(std::string_view text, size_t n, Scratch* scratch) {
  std::vector<size_t>& starts = scratch->starts;
  std::vector<uint32_t>& shingles = scratch->shingles;
  starts.clear();
  shingles.clear();
  if (!text.empty()) {
    starts.push_back(0);
    const char* begin = text.data();
    const char* end = begin + text.size();
    for (const char* p = begin;
         (p = static_cast<const char*>(std::memchr(p, ' ', end - p)));) {
      ++p;
      starts.push_back(p - begin);
    }
  }
  const size_t words = starts.size();
  if (words < n) {
    shingles.push_back(Fold(XXH3_64bits(text.data(), text.size())));
    return;
  }
  for (size_t k = 0; k + n <= words; ++k) {
    const size_t begin = starts[k];
    const size_t end = k + n < words ? starts[k + n] - 1 : text.size();
    shingles.push_back(Fold(XXH3_64bits(text.data() + begin, end - begin)));
  }
}

// The bands x rows signature of normalized text into scratch->mins (padded
// to a multiple of kLanes).
void SignatureInto(std::string_view normalized, const DedupOptions& options,
                   const uint32_t* seeds, Scratch* scratch) {
  ShingleHashes(normalized, options.ngram_words, scratch);
  const size_t lanes =
      (options.bands * options.rows + kLanes - 1) / kLanes * kLanes;
  scratch->mins.assign(lanes, std::numeric_limits<uint32_t>::max());
  MinOverShingles(scratch->shingles.data(), scratch->shingles.size(), seeds,
                  lanes, scratch->mins.data());
}

}  // namespace

MinHasher::MinHasher(const DedupOptions& options) : options_(options) {
  if (options.ngram_words < 1 || options.bands < 1 ||
      options.bands > kMaxBands || options.rows < 1 || options.rows > 64) {
    throw std::invalid_argument(
        "MinHasher: ngram_words >= 1, bands in [1, 32] and rows in [1, 64] "
        "are required");
  }
  uint64_t state = options.seed;
  for (uint32_t& seed : seeds_)
    seed = static_cast<uint32_t>(SplitMix64(&state));
}

std::string MinHasher::Normalize(std::string_view text) {
  Scratch& scratch = ThreadScratch();
  NormalizeInto(text, &scratch);
  return scratch.text.substr(0, scratch.text_size);
}

void MinHasher::Signature(std::string_view normalized,
                          std::span<uint32_t> out) const {
  assert(out.size() == options_.bands * options_.rows);
  Scratch& scratch = ThreadScratch();
  SignatureInto(normalized, options_, seeds_.data(), &scratch);
  std::copy_n(scratch.mins.begin(), std::min(scratch.mins.size(), out.size()),
              out.begin());
}

void MinHasher::SignatureReference(std::string_view normalized,
                                   std::span<uint32_t> out) const {
  std::vector<std::string> words;
  for (size_t pos = 0; pos < normalized.size();) {
    const size_t space = std::min(normalized.find(' ', pos), normalized.size());
    words.emplace_back(normalized.substr(pos, space - pos));
    pos = space + 1;
  }
  std::vector<std::string> shingles;
  if (words.size() < options_.ngram_words) {
    shingles.emplace_back(normalized);
  } else {
    for (size_t k = 0; k + options_.ngram_words <= words.size(); ++k) {
      std::string shingle = words[k];
      for (size_t w = 1; w < options_.ngram_words; ++w) {
        shingle += ' ' + words[k + w];
      }
      shingles.push_back(std::move(shingle));
    }
  }
  for (size_t i = 0; i < out.size(); ++i) {
    uint32_t min = std::numeric_limits<uint32_t>::max();
    for (const std::string& shingle : shingles) {
      const uint64_t h = XXH3_64bits(shingle.data(), shingle.size());
      min = std::min(min, Fmix32(Fold(h) ^ seeds_[i]));
    }
    out[i] = min;
  }
}

void MinHasher::Compute(std::string_view text, DedupKeys* keys) const {
  Scratch& scratch = ThreadScratch();
  NormalizeInto(text, &scratch);
  const std::string_view normalized(scratch.text.data(), scratch.text_size);
  const XXH128_hash_t exact =
      XXH3_128bits(normalized.data(), normalized.size());
  keys->exact_hi = exact.high64;
  keys->exact_lo = exact.low64;

  SignatureInto(normalized, options_, seeds_.data(), &scratch);
  const size_t bands = options_.bands;
  const size_t rows = options_.rows;
  // Seeding each band's hash with its number keeps equal rows in
  // different bands apart.
  for (size_t b = 0; b < bands; ++b) {
    keys->bands[b] = XXH3_64bits_withSeed(scratch.mins.data() + b * rows,
                                          rows * sizeof(uint32_t), b);
  }
  std::fill(keys->bands.begin() + static_cast<ptrdiff_t>(bands),
            keys->bands.end(), 0);
}

}  // namespace needle
