#pragma once
// Python str semantics over UTF-8 text, for rules defined in Python
// (datatrove's filters): len(), isspace(), isalpha(), strip(), splitlines()
// and count() as CPython computes them on the decoded string. The text must
// be valid UTF-8 (the parser has checked every document). Pure functions.

#include <cstdint>
#include <string_view>
#include <vector>

#include "filters/python_chars.h"

namespace needle::python_text {

// The code point starting at text[*pos]; advances *pos past it.
inline char32_t DecodeAt(std::string_view text, size_t* pos) {
  size_t length = 0;
  const char32_t c = python_chars::DecodeAt(text, *pos, &length);
  *pos += length;
  return c;
}
// len(text): the number of code points.
int64_t Length(std::string_view text);
// str.isspace() for one character: the 29 code points CPython calls
// whitespace (tab to CR, the four ASCII separators 0x1C-0x1F, space, NEL,
// NBSP, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000).
inline bool IsSpace(char32_t c) { return python_chars::IsSpace(c); }
// str.isalpha() for one character: a letter (categories Lu Ll Lt Lm Lo), as
// utf8proc's Unicode tables classify it.
bool IsAlpha(char32_t c);
// str.strip(), str.lstrip(), str.rstrip() with no argument.
std::string_view Strip(std::string_view text);
std::string_view LStrip(std::string_view text);
std::string_view RStrip(std::string_view text);
// str.splitlines(): lines without their ends, split at \n, \r, \r\n, \v, \f,
// 0x1C-0x1E, NEL, U+2028 and U+2029; no empty line after a final line end,
// none at all for "". Appends views into `text` to *out.
void SplitLines(std::string_view text, std::vector<std::string_view>* out);
// text.count(sub) for a non-empty `sub`: non-overlapping occurrences, left
// to right.
int64_t Count(std::string_view text, std::string_view sub);

}  // namespace needle::python_text
