#pragma once
// MinHash keys for exact and near-duplicate detection (issue 5).
//
// Text is normalized (NFKC with case folding via utf8proc, Unicode
// punctuation removed, whitespace collapsed), split into words, and
// shingled into word n-grams (n = ngram_words; a text shorter than n words
// is one shingle, hashed whole). Each shingle is hashed once with xxh3-64;
// `bands x rows` cheap permutations of that hash give the signature, and
// each band's rows hash (xxh3) to one 64-bit bucket key. The exact key is
// xxh3-128 of the normalized text.
//
// Stateless after construction and thread-safe: scratch space is per
// thread, so Compute() allocates nothing in steady state.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "pipeline/config.h"

namespace needle {

inline constexpr int kMaxBands = 32;

struct DedupOptions {  // TOML [dedup]
  bool enabled = false;
  uint64_t ngram_words = 5;
  uint64_t bands = 14;  // FineWeb's setting: 14 bands x 8 rows
  uint64_t rows = 8;
  uint64_t seed = 1;
  std::string keep = "first";  // first | highest_quality | longest
  uint64_t memory_limit_bytes = 4ull << 30;

  void Visit(ConfigSection& s) {
    s.Field("enabled", &enabled,
            "Remove exact and near duplicates across all shards of the run, "
            "after the stages (so keep = \"highest_quality\" sees their "
            "scores).");
    s.Field("ngram_words", &ngram_words,
            "Words per shingle; texts shorter than this are one shingle.", 1,
            64);
    s.Field("bands", &bands,
            "LSH bands; documents sharing any band bucket are linked.", 1,
            kMaxBands);
    s.Field("rows", &rows,
            "MinHash values per band; bands x rows hash functions in all.", 1,
            64);
    s.Field("seed", &seed, "Seed of the hash permutations.");
    s.Choice("keep", &keep, {"first", "highest_quality", "longest"},
             "Which document of a duplicate cluster is kept (ties: first in "
             "input order).");
    s.Field("memory_limit_bytes", &memory_limit_bytes,
            "Memory for bucket records before they spill to sorted runs on "
            "disk.",
            1 << 20, UINT64_MAX >> 1);
  }
};

struct DedupKeys {
  uint64_t exact_hi = 0;  // xxh3-128 of the normalized text
  uint64_t exact_lo = 0;
  std::array<uint64_t, kMaxBands> bands{};  // the first `bands` are used
};

class MinHasher {
 public:
  explicit MinHasher(const DedupOptions& options);

  // Normalizes `text` and computes its keys. Thread-safe.
  void Compute(std::string_view text, DedupKeys* keys) const;

  // Exposed for tests and benchmarks.
  static std::string Normalize(std::string_view text);
  // The bands x rows signature of normalized text.
  void Signature(std::string_view normalized, std::span<uint32_t> out) const;
  // The same signature computed the slow, obvious way (shingles copied out,
  // one hash function at a time): the reference Signature() is tested
  // against.
  void SignatureReference(std::string_view normalized,
                          std::span<uint32_t> out) const;

  const DedupOptions& options() const { return options_; }

 private:
  DedupOptions options_;
  // Per hash function: the permutation's parameters.
  std::array<uint32_t, size_t{kMaxBands} * 64> seeds_{};
};

}  // namespace needle
