#pragma once
// NLTK's Punkt sentence splitter (nltk/tokenize/punkt.py, NLTK 3.8),
// PunktSentenceTokenizer.span_tokenize with realign_boundaries, reproduced
// without regular expressions.
//
// datatrove loads the English model NLTK trained on the Wall Street Journal
// (tokenizers/punkt/english.pickle, from nltk_data). That model cannot be
// fetched here, so this is Punkt with parameters that learned nothing (no
// collocations, sentence starters or orthographic statistics) plus a short
// fixed list of common English abbreviations, kAbbreviations: an
// approximation of the trained model. It splits after every '.', '?' or '!'
// that ends a word and is followed by whitespace and more text, except after
// those abbreviations, ellipses, initials ("J. Smith") and numbers followed
// by a lower-case word ("in 1990. the").

#include <array>
#include <cstddef>
#include <string_view>
#include <vector>

namespace needle::words::internal {

// The abbreviation types (lower case, final period removed) that stand in
// for the trained model's learned ones.
inline constexpr std::array<std::string_view, 9> kAbbreviations = {
    "mr", "mrs", "dr", "st", "e.g", "i.e", "etc", "vs", "u.s"};

struct Span {
  size_t begin;
  size_t end;
};

// Appends the byte spans of the sentences of `text` (valid UTF-8) to *out,
// as Punkt yields them: in order, not overlapping, none empty; the first
// may start with whitespace, none ends with it.
void SentenceSpans(std::string_view text, std::vector<Span>* out);

}  // namespace needle::words::internal
