#pragma once
// A byte-pair-encoding tokenizer that counts tokens exactly as OpenAI's
// tiktoken does (tiktoken@1.0.22's encode_ordinary: special-token strings
// such as "<|endoftext|>" are ordinary text). It loads the encoding JSON
// files of the npm package (encoders/*.json: pat_str, special_tokens,
// bpe_ranks), which scripts/setup copies to models/.
//
// Text is split into pieces by the encoding's pre-tokenizer
// (stages/pretokenizer.h); a piece that is itself a token counts one, any
// other is merged byte pair by byte pair, always the pair whose merged bytes
// have the lowest rank, the leftmost on ties (tiktoken's _byte_pair_merge).
// Short pieces merge in place as tiktoken does; long ones (a page of
// Chinese is one piece) through a heap, so no input is quadratic.
//
// A BpeTokenizer is read-only after loading and shared by every thread.
// Counting also takes the calling thread's BpeCache: most pieces of real
// text repeat, and a cached piece costs one hash probe instead of a merge.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "stages/pretokenizer.h"

namespace needle {

class BpeTokenizer;

// One thread's memo of the token counts of pieces of up to 15 bytes (a
// fixed-size, two-way set-associative table of 2 MiB: a new piece evicts
// the less recently used of its pair) and scratch for merging long pieces.
// Allocates once, when first used; after that counting allocates nothing
// but a longer scratch for a longer piece. Serves one tokenizer at a time:
// switching tokenizers clears it.
class BpeCache {
 public:
  BpeCache();
  ~BpeCache();
  BpeCache(const BpeCache&) = delete;
  BpeCache& operator=(const BpeCache&) = delete;

  // Memo lookups (pieces of 2 to 15 bytes), and those it answered.
  uint64_t lookups() const { return lookups_; }
  uint64_t hits() const { return hits_; }

 private:
  friend class BpeTokenizer;
  struct Slot;
  struct Scratch;

  uint64_t owner_ = 0;  // BpeTokenizer::id_ of the memo's contents
  std::unique_ptr<Slot[]> slots_;
  std::unique_ptr<Scratch> scratch_;
  uint64_t lookups_ = 0;
  uint64_t hits_ = 0;
};

class BpeTokenizer {
 public:
  static constexpr uint32_t kNoRank = UINT32_MAX;

  // Parses an encoding JSON; `origin` names it in errors. Throws
  // std::runtime_error when a field is missing or malformed, a single byte
  // has no rank, a token is listed twice, or pat_str is not one of the
  // patterns in PatternString() (cl100k_base, o200k_base, r50k_base and
  // p50k_base use those).
  static BpeTokenizer FromJson(std::string_view json, std::string_view origin);
  // Reads and parses `path`; errors name the path.
  static BpeTokenizer Load(const std::string& path);

  BpeTokenizer(BpeTokenizer&&) noexcept;
  BpeTokenizer& operator=(BpeTokenizer&&) noexcept;
  ~BpeTokenizer();

  // The number of tokens in `text`: encode_ordinary(text).length.
  int64_t Count(std::string_view text, BpeCache& cache) const;
  // The token ids of `text`, appended to `ids`: encode_ordinary(text).
  // Slower than Count(); for tests and for callers that need ids.
  void Encode(std::string_view text, std::vector<uint32_t>* ids) const;
  // The ids of one piece by merging alone, without the whole-piece lookup
  // that Encode() makes first. For tests.
  void MergePiece(std::string_view piece, std::vector<uint32_t>* ids) const;

  // The rank (= id) of a token's bytes, or kNoRank.
  uint32_t Rank(std::string_view bytes) const;
  // The bytes of token `rank` (< vocab_size()), or "" for a gap in the ranks.
  std::string_view Bytes(uint32_t rank) const;
  // One past the highest rank.
  size_t vocab_size() const;
  const Pretokenizer& pretokenizer() const { return pretokenizer_; }

  // Pieces up to this many bytes merge in place, longer ones by heap.
  static constexpr size_t kInPlaceMergeBytes = 96;

 private:
  struct RankTable;
  BpeTokenizer(PiecePattern pattern, std::unique_ptr<RankTable> ranks);

  // Fills `starts` with the start offset of each token of `piece`, then
  // piece.size(); returns the number of tokens.
  size_t Merge(std::string_view piece, BpeCache::Scratch& scratch,
               std::vector<uint32_t>& starts) const;
  size_t MergeInPlace(std::string_view piece, uint32_t* starts) const;
  size_t MergeByHeap(std::string_view piece, BpeCache::Scratch& scratch,
                     std::vector<uint32_t>& starts) const;
  // `readable`: the end of the text that `piece` is part of.
  int64_t CountPiece(std::string_view piece, const char* readable,
                     BpeCache& cache) const;

  uint64_t id_;  // distinct per loaded tokenizer, for BpeCache
  Pretokenizer pretokenizer_;
  std::unique_ptr<RankTable> ranks_;
};

}  // namespace needle
