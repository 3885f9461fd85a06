#include "stages/bpe_tokenizer.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <functional>
#include <stdexcept>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace needle {
namespace {

using Byte = unsigned char;

// The memo keeps pieces of 2 to 15 bytes inline in 16-byte slots, 2^17 of
// them (2 MiB per thread) in pairs: a piece's pair holds the latest two
// pieces that hash there, the more recently used first. Longer pieces are
// rare in any script with spaces (0.07% of the Brown corpus's); on the Brown
// corpus 99% of lookups hit.
constexpr size_t kMemoBytes = 15;
constexpr int kMemoBits = 17;
// The last byte of a slot: the piece's length in the high half, its token
// count (at most its length) in the low half.
constexpr uint64_t kCountMask = uint64_t{0x0F} << 56;
static_assert(
    std::endian::native == std::endian::little,
    "memo keys take a piece's first bytes as the low bytes of a word");

// Vocabularies hold 50k to 200k tokens; a rank far past that is a corrupt
// file, not a reason to allocate gigabytes.
constexpr uint64_t kMaxRank = 1u << 24;

std::atomic<uint64_t> next_tokenizer_id{1};

[[noreturn]] void Fail(std::string_view origin, std::string_view what) {
  throw std::runtime_error(fmt::format("{}: {}", origin, what));
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 with padding, as the base64 crate's STANDARD engine that
// tiktoken decodes with. Returns false on anything else.
bool DecodeBase64(std::string_view in, std::string* out) {
  out->clear();
  if (in.size() % 4 != 0) return false;
  for (size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    const size_t pad = last ? (in[i + 3] == '=') + (in[i + 2] == '=') : 0;
    if (pad == 1 && in[i + 2] == '=') return false;  // "x=y=" is not padding
    uint32_t group = 0;
    for (size_t k = 0; k < 4; ++k) {
      const int value = k >= 4 - pad ? 0 : Base64Value(in[i + k]);
      if (value < 0) return false;
      group = (group << 6) | static_cast<uint32_t>(value);
    }
    out->push_back(static_cast<char>(group >> 16));
    if (pad < 2) out->push_back(static_cast<char>((group >> 8) & 0xFF));
    if (pad < 1) out->push_back(static_cast<char>(group & 0xFF));
  }
  return true;
}

}  // namespace

// Token bytes -> rank, open addressing with linear probing. Also ranks of
// all byte pairs, the first lookups of every merge, in a flat array.
struct BpeTokenizer::RankTable {
  struct Slot {
    uint32_t check = 0;  // high half of the hash
    uint32_t rank = 0;
    uint32_t offset = 0;  // into `bytes`
    uint32_t size = 0;    // 0: empty slot
  };
  std::vector<Slot> slots;
  uint64_t mask = 0;
  std::string bytes;  // every token's bytes, concatenated
  std::vector<std::pair<uint32_t, uint32_t>> by_rank;  // offset, size
  std::vector<uint32_t> pair_ranks;                    // (b0 << 8) | b1
  size_t max_size = 0;

  static uint64_t Hash(const void* p, size_t n) { return XXH3_64bits(p, n); }

  uint32_t Find(const void* p, size_t n) const {
    if (n > max_size || n == 0) return kNoRank;
    const uint64_t hash = Hash(p, n);
    const auto check = static_cast<uint32_t>(hash >> 32);
    for (uint64_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots[i];
      if (slot.size == 0) return kNoRank;
      if (slot.check == check && slot.size == n &&
          std::memcmp(bytes.data() + slot.offset, p, n) == 0) {
        return slot.rank;
      }
    }
  }

  // Builds the table from (bytes, rank) pairs; `tokens` holds the bytes of
  // each pair back to back.
  void Build(const std::string& tokens,
             const std::vector<std::pair<uint32_t, uint32_t>>& spans,
             const std::vector<uint32_t>& ranks, std::string_view origin) {
    bytes = tokens;
    size_t capacity = 16;
    while (capacity < spans.size() * 2) capacity *= 2;
    slots.assign(capacity, Slot{});
    mask = capacity - 1;
    uint32_t top = 0;
    for (const uint32_t rank : ranks) top = std::max(top, rank);
    by_rank.assign(spans.empty() ? 0 : top + 1, {0, 0});
    for (size_t t = 0; t < spans.size(); ++t) {
      const auto [offset, size] = spans[t];
      const char* p = bytes.data() + offset;
      if (Find(p, size) != kNoRank) {
        Fail(origin, fmt::format("bpe_ranks lists the bytes of rank {} twice "
                                 "(again as rank {})",
                                 Find(p, size), ranks[t]));
      }
      const uint64_t hash = Hash(p, size);
      uint64_t i = hash & mask;
      while (slots[i].size != 0) i = (i + 1) & mask;
      slots[i] = {static_cast<uint32_t>(hash >> 32), ranks[t], offset, size};
      max_size = std::max<size_t>(max_size, size);
      by_rank[ranks[t]] = {offset, size};
    }
    for (int b = 0; b < 256; ++b) {
      const char c = static_cast<char>(b);
      if (Find(&c, 1) == kNoRank) {
        Fail(origin,
             fmt::format("bpe_ranks has no token for the byte 0x{:02X}; "
                         "every byte needs one",
                         b));
      }
    }
    pair_ranks.resize(1 << 16);
    for (int pair = 0; pair < (1 << 16); ++pair) {
      const char two[2] = {static_cast<char>(pair >> 8),
                           static_cast<char>(pair & 0xFF)};
      pair_ranks[pair] = Find(two, 2);
    }
  }
};

struct BpeCache::Slot {
  uint64_t low;   // the piece's bytes 0-7, zero-padded
  uint64_t high;  // bytes 8-14, zero-padded; length and count (kCountMask)
};

struct BpeCache::Scratch {
  std::vector<uint32_t> starts;
  std::vector<uint32_t> next;
  std::vector<uint32_t> prev;
  std::vector<uint32_t> ranks;
  std::vector<uint64_t> heap;  // (rank << 32) | part: lowest, then leftmost
};

BpeCache::BpeCache() : scratch_(std::make_unique<Scratch>()) {}
BpeCache::~BpeCache() = default;

BpeTokenizer::BpeTokenizer(PiecePattern pattern,
                           std::unique_ptr<RankTable> ranks)
    : id_(next_tokenizer_id.fetch_add(1)),
      pretokenizer_(pattern),
      ranks_(std::move(ranks)) {}

BpeTokenizer::BpeTokenizer(BpeTokenizer&&) noexcept = default;
BpeTokenizer& BpeTokenizer::operator=(BpeTokenizer&&) noexcept = default;
BpeTokenizer::~BpeTokenizer() = default;

BpeTokenizer BpeTokenizer::FromJson(std::string_view json,
                                    std::string_view origin) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(json);
  simdjson::dom::element root;
  if (auto error = parser.parse(padded).get(root)) {
    Fail(origin, fmt::format("not an encoding JSON: {}",
                             simdjson::error_message(error)));
  }
  std::string_view pat_str;
  std::string_view bpe_ranks;
  if (root["pat_str"].get_string().get(pat_str)) {
    Fail(origin, "no string field pat_str; is it a tiktoken encoding JSON?");
  }
  if (root["bpe_ranks"].get_string().get(bpe_ranks)) {
    Fail(origin, "no string field bpe_ranks; is it a tiktoken encoding JSON?");
  }
  PiecePattern pattern = PiecePattern::kCl100k;
  bool known = false;
  for (const PiecePattern p :
       {PiecePattern::kCl100k, PiecePattern::kO200k, PiecePattern::kR50k}) {
    if (pat_str == PatternString(p)) {
      pattern = p;
      known = true;
    }
  }
  if (!known) {
    Fail(origin,
         "pat_str is none of the patterns the pre-tokenizer implements "
         "(cl100k_base, o200k_base, r50k_base)");
  }

  // bpe_ranks, as tiktoken reads it: lines of "! OFFSET TOKEN TOKEN ...",
  // TOKEN in base64, ranks counting up from OFFSET; or, when the text does
  // not start with '!', lines of "TOKEN RANK" (the .tiktoken file format).
  std::string tokens;
  std::vector<std::pair<uint32_t, uint32_t>> spans;
  std::vector<uint32_t> ranks;
  std::string decoded;
  const bool compact = !bpe_ranks.empty() && bpe_ranks[0] == '!';
  auto add = [&](std::string_view base64, uint64_t rank) {
    if (!DecodeBase64(base64, &decoded) || decoded.empty()) {
      Fail(origin, fmt::format("bpe_ranks: bad token \"{}\" for rank {}",
                               base64.substr(0, 40), rank));
    }
    if (rank >= kMaxRank) {
      Fail(origin, fmt::format("bpe_ranks: rank {} is too large", rank));
    }
    spans.emplace_back(tokens.size(), decoded.size());
    ranks.push_back(static_cast<uint32_t>(rank));
    tokens += decoded;
  };
  auto number = [&](std::string_view text) {
    uint64_t value = 0;
    if (text.empty() || text.size() > 9) value = kMaxRank;
    for (const char c : text) {
      if (c < '0' || c > '9') value = kMaxRank;
      if (value < kMaxRank) value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    if (value >= kMaxRank) {
      Fail(origin,
           fmt::format("bpe_ranks: bad rank \"{}\"", text.substr(0, 20)));
    }
    return value;
  };
  size_t line_start = 0;
  while (line_start < bpe_ranks.size()) {
    size_t line_end = bpe_ranks.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = bpe_ranks.size();
    std::string_view line = bpe_ranks.substr(line_start, line_end - line_start);
    line_start = line_end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    std::vector<std::string_view> parts;
    for (size_t pos = 0;;) {
      const size_t space = line.find(' ', pos);
      parts.push_back(line.substr(pos, space - pos));
      if (space == std::string_view::npos) break;
      pos = space + 1;
    }
    if (compact) {
      if (parts.size() < 2) Fail(origin, "bpe_ranks: a line has no offset");
      const uint64_t offset = number(parts[1]);
      for (size_t i = 2; i < parts.size(); ++i) add(parts[i], offset + i - 2);
    } else {
      if (parts.size() != 2) {
        Fail(origin, "bpe_ranks: expected lines of \"TOKEN RANK\"");
      }
      add(parts[0], number(parts[1]));
    }
  }
  auto table = std::make_unique<RankTable>();
  table->Build(tokens, spans, ranks, origin);
  return BpeTokenizer(pattern, std::move(table));
}

BpeTokenizer BpeTokenizer::Load(const std::string& path) {
  simdjson::padded_string json;
  if (auto error = simdjson::padded_string::load(path).get(json)) {
    Fail(path, fmt::format("cannot read the encoding ({}); scripts/setup "
                           "fetches it into models/",
                           simdjson::error_message(error)));
  }
  return FromJson(std::string_view(json), path);
}

uint32_t BpeTokenizer::Rank(std::string_view bytes) const {
  return ranks_->Find(bytes.data(), bytes.size());
}

std::string_view BpeTokenizer::Bytes(uint32_t rank) const {
  if (rank >= ranks_->by_rank.size()) return {};
  const auto [offset, size] = ranks_->by_rank[rank];
  return std::string_view(ranks_->bytes).substr(offset, size);
}

size_t BpeTokenizer::vocab_size() const { return ranks_->by_rank.size(); }

// tiktoken's _byte_pair_merge, step for step: ranks[i] is the rank of parts
// i and i + 1 merged; merge the lowest (leftmost on ties), then look up the
// two pairs the merged part now belongs to.
size_t BpeTokenizer::MergeInPlace(std::string_view piece,
                                  uint32_t* starts) const {
  const size_t n = piece.size();
  const auto* p = reinterpret_cast<const Byte*>(piece.data());
  uint32_t ranks[kInPlaceMergeBytes + 1];
  for (size_t i = 0; i <= n; ++i) starts[i] = static_cast<uint32_t>(i);
  for (size_t i = 0; i + 1 < n; ++i) {
    ranks[i] = ranks_->pair_ranks[(p[i] << 8) | p[i + 1]];
  }
  ranks[n - 1] = kNoRank;
  ranks[n] = kNoRank;
  size_t parts = n + 1;  // entries in starts; the last is the end
  auto rank_of = [&](size_t i) {
    return i + 3 < parts
               ? ranks_->Find(p + starts[i], starts[i + 3] - starts[i])
               : kNoRank;
  };
  while (true) {
    uint32_t best = kNoRank;
    size_t at = 0;
    for (size_t i = 0; i + 1 < parts; ++i) {
      if (ranks[i] < best) {
        best = ranks[i];
        at = i;
      }
    }
    if (best == kNoRank) break;
    if (at > 0) ranks[at - 1] = rank_of(at - 1);
    ranks[at] = rank_of(at);
    std::copy(starts + at + 2, starts + parts, starts + at + 1);
    std::copy(ranks + at + 2, ranks + parts, ranks + at + 1);
    --parts;
  }
  return parts - 1;
}

// The same merges in O(n log n): parts in a linked list (a part keeps the
// index of its first byte), candidate pairs in a min-heap keyed by (rank,
// part), stale entries skipped when popped. A part's pair only grows, so
// its rank never returns to an old value and a stale entry never matches.
size_t BpeTokenizer::MergeByHeap(std::string_view piece,
                                 BpeCache::Scratch& scratch,
                                 std::vector<uint32_t>& starts) const {
  const size_t n = piece.size();
  if (n >= UINT32_MAX) throw std::length_error("piece of 4 GiB or more");
  const auto* p = reinterpret_cast<const Byte*>(piece.data());
  auto& next = scratch.next;
  auto& prev = scratch.prev;
  auto& ranks = scratch.ranks;
  auto& heap = scratch.heap;
  next.resize(n + 1);
  prev.resize(n + 1);
  ranks.resize(n + 1);
  heap.clear();
  for (uint32_t i = 0; i <= n; ++i) {
    next[i] = i + 1;
    prev[i] = i - 1;
    ranks[i] = i + 1 < n ? ranks_->pair_ranks[(p[i] << 8) | p[i + 1]] : kNoRank;
    if (ranks[i] != kNoRank) heap.push_back(uint64_t{ranks[i]} << 32 | i);
  }
  const std::greater<uint64_t> later;
  std::make_heap(heap.begin(), heap.end(), later);
  auto rank_of = [&](uint32_t i) {
    const uint32_t j = next[i];
    return j < n ? ranks_->Find(p + i, next[j] - i) : kNoRank;
  };
  auto push = [&](uint32_t i) {
    ranks[i] = rank_of(i);
    if (ranks[i] == kNoRank) return;
    heap.push_back(uint64_t{ranks[i]} << 32 | i);
    std::push_heap(heap.begin(), heap.end(), later);
  };
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const uint64_t top = heap.back();
    heap.pop_back();
    const auto i = static_cast<uint32_t>(top);
    if (ranks[i] != top >> 32) continue;
    const uint32_t j = next[i];
    next[i] = next[j];
    prev[next[j]] = i;
    ranks[j] = kNoRank;
    push(i);
    if (i > 0) push(prev[i]);
  }
  starts.clear();
  for (uint32_t i = 0; i < n; i = next[i]) starts.push_back(i);
  starts.push_back(static_cast<uint32_t>(n));
  return starts.size() - 1;
}

size_t BpeTokenizer::Merge(std::string_view piece, BpeCache::Scratch& scratch,
                           std::vector<uint32_t>& starts) const {
  if (piece.size() > kInPlaceMergeBytes) {
    return MergeByHeap(piece, scratch, starts);
  }
  uint32_t local[kInPlaceMergeBytes + 1];
  const size_t count = MergeInPlace(piece, local);
  starts.assign(local, local + count + 1);
  return count;
}

int64_t BpeTokenizer::CountPiece(std::string_view piece, const char* readable,
                                 BpeCache& cache) const {
  const size_t n = piece.size();
  if (n == 1) return 1;  // every byte is a token
  auto count_uncached = [&]() -> int64_t {
    if (Rank(piece) != kNoRank) return 1;
    if (n <= kInPlaceMergeBytes) {
      uint32_t starts[kInPlaceMergeBytes + 1];
      return static_cast<int64_t>(MergeInPlace(piece, starts));
    }
    return static_cast<int64_t>(
        MergeByHeap(piece, *cache.scratch_, cache.scratch_->starts));
  };
  if (n > kMemoBytes) return count_uncached();

  // The key: the piece's bytes, zero-padded, with its length. Where 16 bytes
  // can be read, two loads and masks instead of a copy of n bytes.
  uint64_t low = 0;
  uint64_t high = 0;
  if (readable - piece.data() >= 16) {
    std::memcpy(&low, piece.data(), 8);
    std::memcpy(&high, piece.data() + 8, 8);
    auto first_bytes = [](size_t k) {
      return k >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * k)) - 1;
    };
    low &= first_bytes(n);
    high &= n > 8 ? first_bytes(n - 8) & ~(uint64_t{0xFF} << 56) : 0;
  } else {
    char bytes[16] = {};
    std::memcpy(bytes, piece.data(), n);
    std::memcpy(&low, bytes, 8);
    std::memcpy(&high, bytes + 8, 8);
  }
  high |= uint64_t{n} << 60;
  uint64_t hash = (low ^ (high >> 29)) * 0x9E3779B97F4A7C15ull;
  hash ^= (high + 0x632BE59BD9B4E019ull) * 0xC2B2AE3D27D4EB4Full;
  hash ^= hash >> 31;
  hash *= 0xBF58476D1CE4E5B9ull;
  BpeCache::Slot* pair =
      &cache.slots_[(hash >> (64 - kMemoBits)) & ~uint64_t{1}];
  ++cache.lookups_;
  for (int way = 0; way < 2; ++way) {
    const BpeCache::Slot slot = pair[way];
    if (slot.low == low && (slot.high & ~kCountMask) == high) {
      ++cache.hits_;
      if (way == 1) std::swap(pair[0], pair[1]);
      return static_cast<int64_t>((slot.high & kCountMask) >> 56);
    }
  }
  const int64_t count = count_uncached();
  pair[1] = pair[0];
  pair[0] = {low, high | (static_cast<uint64_t>(count) << 56)};
  return count;
}

int64_t BpeTokenizer::Count(std::string_view text, BpeCache& cache) const {
  if (cache.owner_ != id_) {
    // An all-zero slot has length 0, which no piece has: it is empty.
    cache.slots_ = std::make_unique<BpeCache::Slot[]>(size_t{1} << kMemoBits);
    cache.owner_ = id_;
  }
  const char* readable = text.data() + text.size();
  int64_t total = 0;
  for (size_t pos = 0; pos < text.size();) {
    const size_t end = pretokenizer_.Next(text, pos);
    total += CountPiece(text.substr(pos, end - pos), readable, cache);
    pos = end;
  }
  return total;
}

void BpeTokenizer::MergePiece(std::string_view piece,
                              std::vector<uint32_t>* ids) const {
  if (piece.empty()) return;
  BpeCache::Scratch scratch;
  std::vector<uint32_t> starts;
  const size_t count = Merge(piece, scratch, starts);
  for (size_t i = 0; i < count; ++i) {
    ids->push_back(Rank(piece.substr(starts[i], starts[i + 1] - starts[i])));
  }
}

void BpeTokenizer::Encode(std::string_view text,
                          std::vector<uint32_t>* ids) const {
  for (size_t pos = 0; pos < text.size();) {
    const size_t end = pretokenizer_.Next(text, pos);
    const std::string_view piece = text.substr(pos, end - pos);
    pos = end;
    if (const uint32_t rank = Rank(piece); rank != kNoRank) {
      ids->push_back(rank);
    } else {
      MergePiece(piece, ids);
    }
  }
}

}  // namespace needle
