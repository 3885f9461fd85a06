#pragma once
// Text units shared by the Gopher, C4 and FineWeb rule stages: English word
// tokens and sentences as datatrove computes them (through NLTK), and
// datatrove's punctuation sets. Pure functions; safe to call from any thread
// (the splitters keep scratch buffers per thread).
//
// Checked token by token against NLTK 3.8 (Debian's python3-nltk) by
// tests/filters/words_test.cc. Deliberate differences from datatrove:
// - English is split as datatrove's NLTKTokenizer("english") splits it, its
//   English splitter up to 0.3.0 (FineWeb's); from 0.4.0 datatrove splits
//   English with spaCy's blank model, which differs (hyphenated words,
//   URLs...). bench/datatrove_agreement.py compares the rules on NLTK.
// - Sentences come from Punkt without the trained english.pickle, which
//   cannot be fetched here: no learned abbreviations, collocations or
//   sentence starters, only a short fixed list of abbreviations
//   (filters/punkt.h). Where the trained model would not break (rarer
//   abbreviations, "No. 5") or would break after an abbreviation before a
//   capitalized word ("etc. The"), sentences and so the final-period
//   tokens differ.
// - Character classes (\w, \d, whitespace, case) come from utf8proc's
//   Unicode 15.0 tables; Python 3.11 has 14.0.
// - SplitSentences strips: datatrove's split_into_sentences gives pieces
//   that cover the whole text, the whitespace between two sentences
//   starting the second.

#include <string>
#include <string_view>
#include <vector>

#include "pipeline/batch.h"

namespace needle::words {

// English word tokens as datatrove's split_into_words(text, "en") gives them,
// i.e. NLTK's word_tokenize(text, "english"): sentences first, then the
// Treebank-style NLTKWordTokenizer rules on each, empty tokens dropped.
// Every token is a view into `text` or a static literal (the "``" and "''"
// that replace double quotes). Appends to *out (does not clear it).
void SplitWords(std::string_view text, std::vector<std::string_view>* out);
// SplitWords(doc.text), split on the first call and cached on the document
// (doc.words) for the next stage that asks, until the text changes.
const std::vector<std::string_view>& WordsOf(Document& doc);
// python_text::SplitLines(doc.text) (str.splitlines()), cached on the
// document (doc.lines) in the same way.
const std::vector<std::string_view>& LinesOf(Document& doc);
// Sentences as datatrove's split_into_sentences / NLTK punkt span_tokenize,
// views into `text`, stripped, empty ones dropped. Appends to *out.
void SplitSentences(std::string_view text, std::vector<std::string_view>* out);
// datatrove's PUNCTUATION_SET (utils/text.py: PUNCTUATION plus
// TERMINAL_PUNCTUATION).
bool IsPunctuation(char32_t c);
// datatrove's TERMINAL_PUNCTUATION.
bool IsTerminalPunctuation(char32_t c);
// True when every code point of `word` is in PUNCTUATION_SET (false for "").
bool IsAllPunctuation(std::string_view word);
// The first and last code points of UTF-8 text (0 for empty text).
char32_t FirstCodePoint(std::string_view text);
char32_t LastCodePoint(std::string_view text);
// True when the document's "lang" signal (set by the lang stage) is one of
// `languages`: word-based rules are switched off for it (zh, ja, th...).
bool SkipsLanguage(const Document& doc,
                   const std::vector<std::string>& languages);

}  // namespace needle::words
