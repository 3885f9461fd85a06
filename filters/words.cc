#include "filters/words.h"

#include <algorithm>
#include <iterator>

#include "filters/punkt.h"
#include "filters/python_chars.h"
#include "filters/python_text.h"
#include "filters/treebank.h"

namespace needle::words {
namespace {

using internal::SentenceSpans;
using internal::Span;
using python_chars::DecodeAt;
using python_chars::IsSpace;
using python_chars::PreviousStart;

// datatrove's PUNCTUATION_SET above ASCII, sorted.
constexpr char32_t kPunctuation[] = {
    0x0080,  0x0081,  0x0082,  0x0083,  0x0084,  0x0085,  0x0086,  0x0087,
    0x0088,  0x0089,  0x008A,  0x008B,  0x008C,  0x008D,  0x008E,  0x008F,
    0x0090,  0x0091,  0x0092,  0x0093,  0x0094,  0x0095,  0x0096,  0x0097,
    0x0098,  0x0099,  0x009A,  0x009B,  0x009C,  0x009D,  0x009E,  0x009F,
    0x00AB,  0x00B4,  0x00BB,  0x0589,  0x061D,  0x061E,  0x061F,  0x06D4,
    0x0700,  0x0701,  0x0702,  0x07F9,  0x0837,  0x0839,  0x083D,  0x083E,
    0x0964,  0x0965,  0x104A,  0x104B,  0x1362,  0x1367,  0x1368,  0x166E,
    0x1735,  0x1736,  0x17D4,  0x17D5,  0x17D6,  0x17D9,  0x17DA,  0x1803,
    0x1809,  0x1944,  0x1945,  0x1AA8,  0x1AA9,  0x1AAA,  0x1AAB,  0x1B5A,
    0x1B5B,  0x1B5E,  0x1B5F,  0x1B7D,  0x1B7E,  0x1C3B,  0x1C3C,  0x1C7E,
    0x1C7F,  0x2013,  0x2014,  0x2019,  0x201C,  0x201D,  0x201E,  0x2026,
    0x203C,  0x203D,  0x2047,  0x2048,  0x2049,  0x2236,  0x2501,  0x25BA,
    0x2E2E,  0x2E3C,  0x2E53,  0x2E54,  0x3001,  0x3002,  0x3008,  0x3009,
    0x300A,  0x300B,  0x300C,  0x300D,  0x3010,  0x3011,  0xA4FF,  0xA60E,
    0xA60F,  0xA6F3,  0xA6F7,  0xA876,  0xA877,  0xA8CE,  0xA8CF,  0xA92F,
    0xA9C8,  0xA9C9,  0xAA5D,  0xAA5E,  0xAA5F,  0xAAF0,  0xAAF1,  0xABEB,
    0xFE52,  0xFE56,  0xFE57,  0xFF01,  0xFF05,  0xFF08,  0xFF09,  0xFF0C,
    0xFF0E,  0xFF11,  0xFF1A,  0xFF1B,  0xFF1F,  0xFF5E,  0xFF61,  0x10A56,
    0x10A57, 0x10F55, 0x10F56, 0x10F57, 0x10F58, 0x10F59, 0x10F86, 0x10F87,
    0x10F88, 0x10F89, 0x11047, 0x11048, 0x110BE, 0x110BF, 0x110C0, 0x110C1,
    0x11141, 0x11142, 0x11143, 0x111C5, 0x111C6, 0x111CD, 0x111DE, 0x111DF,
    0x11238, 0x11239, 0x1123B, 0x1123C, 0x112A9, 0x1144B, 0x1144C, 0x115C2,
    0x115C3, 0x115C9, 0x115CA, 0x115CB, 0x115CC, 0x115CD, 0x115CE, 0x115CF,
    0x115D0, 0x115D1, 0x115D2, 0x115D3, 0x115D4, 0x115D5, 0x115D6, 0x115D7,
    0x11641, 0x11642, 0x1173C, 0x1173D, 0x1173E, 0x11944, 0x11946, 0x11A42,
    0x11A43, 0x11A9B, 0x11A9C, 0x11C41, 0x11C42, 0x11EF7, 0x11EF8, 0x11F43,
    0x11F44, 0x16A6E, 0x16A6F, 0x16AF5, 0x16B37, 0x16B38, 0x16B44, 0x16E98,
    0x1BC9F, 0x1DA88,
};

// datatrove's TERMINAL_PUNCTUATION, sorted.
constexpr char32_t kTerminalPunctuation[] = {
    0x0021,  0x002E,  0x003F,  0x0589,  0x061D,  0x061E,  0x061F,  0x06D4,
    0x0700,  0x0701,  0x0702,  0x07F9,  0x0837,  0x0839,  0x083D,  0x083E,
    0x0964,  0x0965,  0x104A,  0x104B,  0x1362,  0x1367,  0x1368,  0x166E,
    0x1735,  0x1736,  0x17D4,  0x17D5,  0x17D6,  0x17D9,  0x17DA,  0x1803,
    0x1809,  0x1944,  0x1945,  0x1AA8,  0x1AA9,  0x1AAA,  0x1AAB,  0x1B5A,
    0x1B5B,  0x1B5E,  0x1B5F,  0x1B7D,  0x1B7E,  0x1C3B,  0x1C3C,  0x1C7E,
    0x1C7F,  0x203C,  0x203D,  0x2047,  0x2048,  0x2049,  0x2E2E,  0x2E3C,
    0x2E53,  0x2E54,  0x3002,  0xA4FF,  0xA60E,  0xA60F,  0xA6F3,  0xA6F7,
    0xA876,  0xA877,  0xA8CE,  0xA8CF,  0xA92F,  0xA9C8,  0xA9C9,  0xAA5D,
    0xAA5E,  0xAA5F,  0xAAF0,  0xAAF1,  0xABEB,  0xFE52,  0xFE56,  0xFE57,
    0xFF01,  0xFF0E,  0xFF1F,  0xFF61,  0x10A56, 0x10A57, 0x10F55, 0x10F56,
    0x10F57, 0x10F58, 0x10F59, 0x10F86, 0x10F87, 0x10F88, 0x10F89, 0x11047,
    0x11048, 0x110BE, 0x110BF, 0x110C0, 0x110C1, 0x11141, 0x11142, 0x11143,
    0x111C5, 0x111C6, 0x111CD, 0x111DE, 0x111DF, 0x11238, 0x11239, 0x1123B,
    0x1123C, 0x112A9, 0x1144B, 0x1144C, 0x115C2, 0x115C3, 0x115C9, 0x115CA,
    0x115CB, 0x115CC, 0x115CD, 0x115CE, 0x115CF, 0x115D0, 0x115D1, 0x115D2,
    0x115D3, 0x115D4, 0x115D5, 0x115D6, 0x115D7, 0x11641, 0x11642, 0x1173C,
    0x1173D, 0x1173E, 0x11944, 0x11946, 0x11A42, 0x11A43, 0x11A9B, 0x11A9C,
    0x11C41, 0x11C42, 0x11EF7, 0x11EF8, 0x11F43, 0x11F44, 0x16A6E, 0x16A6F,
    0x16AF5, 0x16B37, 0x16B38, 0x16B44, 0x16E98, 0x1BC9F, 0x1DA88,
};

template <size_t N>
bool Contains(const char32_t (&sorted)[N], char32_t c) {
  return std::binary_search(std::begin(sorted), std::end(sorted), c);
}

// Sentence spans of `text`, in a buffer reused across calls on this thread.
const std::vector<Span>& SpansOf(std::string_view text) {
  thread_local std::vector<Span> spans;
  spans.clear();
  SentenceSpans(text, &spans);
  return spans;
}

}  // namespace

void SplitWords(std::string_view text, std::vector<std::string_view>* out) {
  for (const Span& span : SpansOf(text)) {
    internal::TreebankWords(text.substr(span.begin, span.end - span.begin),
                            out);
  }
}

namespace {

// The pieces `split` makes of doc.text, cached in *pieces, which holds the
// pieces of *of: split only when *of is not the text (texts are immutable
// once a document views them, so the same bytes give the same pieces).
template <class Split>
const std::vector<std::string_view>& Cached(
    const Document& doc, std::vector<std::string_view>* pieces,
    std::string_view* of, const Split& split) {
  const bool cached =
      of->data() == doc.text.data() && of->size() == doc.text.size();
  if (!cached) {
    pieces->clear();
    *of = {};
    try {
      split(doc.text, pieces);
    } catch (...) {
      pieces->clear();  // no half list for an empty text to find later
      throw;
    }
    *of = doc.text;
  }
  return *pieces;
}

}  // namespace

const std::vector<std::string_view>& WordsOf(Document& doc) {
  return Cached(doc, &doc.words, &doc.words_of, SplitWords);
}

const std::vector<std::string_view>& LinesOf(Document& doc) {
  return Cached(doc, &doc.lines, &doc.lines_of, python_text::SplitLines);
}

void SplitSentences(std::string_view text, std::vector<std::string_view>* out) {
  for (const Span& span : SpansOf(text)) {
    size_t begin = span.begin;
    size_t end = span.end;
    while (begin < end) {
      size_t length = 0;
      if (!IsSpace(DecodeAt(text, begin, &length))) break;
      begin += length;
    }
    while (end > begin) {
      const size_t p = PreviousStart(text, end);
      if (!IsSpace(DecodeAt(text, p))) break;
      end = p;
    }
    if (end > begin) out->push_back(text.substr(begin, end - begin));
  }
}

bool IsPunctuation(char32_t c) {
  if (c < 128) {
    // All of ASCII but letters, digits, tab, newline and space.
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
                       (c >= 'a' && c <= 'z');
    return !alnum && c != '\t' && c != '\n' && c != ' ';
  }
  return Contains(kPunctuation, c);
}

bool IsTerminalPunctuation(char32_t c) {
  return Contains(kTerminalPunctuation, c);
}

bool IsAllPunctuation(std::string_view word) {
  if (word.empty()) return false;
  for (size_t i = 0; i < word.size();) {
    size_t length = 0;
    if (!IsPunctuation(DecodeAt(word, i, &length))) return false;
    i += length;
  }
  return true;
}

char32_t FirstCodePoint(std::string_view text) {
  return text.empty() ? 0 : DecodeAt(text, 0);
}

char32_t LastCodePoint(std::string_view text) {
  return text.empty() ? 0 : DecodeAt(text, PreviousStart(text, text.size()));
}

bool SkipsLanguage(const Document& doc,
                   const std::vector<std::string>& languages) {
  const std::string* lang = doc.FindSignal<std::string>("lang");
  return lang != nullptr && std::find(languages.begin(), languages.end(),
                                      *lang) != languages.end();
}

}  // namespace needle::words
