#pragma once
// tiktoken's pre-tokenizers, written by hand: each splits text into the same
// pieces as its encoding's pat_str does under fancy-regex, the backtracking
// engine inside tiktoken (RE2 cannot run the patterns: \s+(?!\S) looks
// ahead). PatternString() gives each pattern verbatim; pretokenizer.cc
// says, alternative by alternative, what the backtracking amounts to.
//
// Character classes are Unicode 16.0 (stages/unicode_classes.h), as in the
// regex crate that tiktoken@1.0.22 is built with. Case-insensitive
// contractions match as the regex crate folds case: 'S, and also 'ſ (U+017F,
// which folds to s). Text is expected to be valid UTF-8 (the parser checks
// it); a byte that does not start a valid sequence is taken as one character
// of no class, like a symbol, so bad input still splits into whole bytes.
//
// Stateless after construction; safe to share between threads.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "stages/unicode_classes.h"

namespace needle {

enum class PiecePattern : uint8_t {
  kCl100k,  // cl100k_base (GPT-3.5, GPT-4)
  kO200k,   // o200k_base (GPT-4o): case-aware words, trailing contractions
  kR50k,    // r50k_base and p50k_base (GPT-2, GPT-3)
};

// The pat_str that `pattern` reproduces, exactly as in tiktoken@1.0.22's
// encoders/*.json.
std::string_view PatternString(PiecePattern pattern);

class Pretokenizer {
 public:
  explicit Pretokenizer(PiecePattern pattern);

  // The end offset of the piece that starts at `pos` (< text.size()):
  // always past `pos`, so `for (pos = 0; pos < n; pos = Next(text, pos))`
  // visits every piece.
  size_t Next(std::string_view text, size_t pos) const;

  // Every piece of `text`, in order. For tests; Next() allocates nothing.
  std::vector<std::string_view> Split(std::string_view text) const;

  PiecePattern pattern() const { return pattern_; }

 private:
  PiecePattern pattern_;
  const CharClasses* classes_;
};

}  // namespace needle
