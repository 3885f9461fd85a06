#include "filters/python_text.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

// The fast paths of python_text (eight bytes at a time) against the
// obvious definitions, one code point at a time, on random strings made of
// every kind of line break, space, and character size.

namespace needle {
namespace {

namespace py = python_text;

// str.splitlines(), decoding each code point.
std::vector<std::string_view> SlowSplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t line_start = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t char_start = pos;
    const char32_t c = py::DecodeAt(text, &pos);
    const bool line_end = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C ||
                          c == 0x1C || c == 0x1D || c == 0x1E || c == 0x85 ||
                          c == 0x2028 || c == 0x2029;
    if (!line_end) continue;
    lines.push_back(text.substr(line_start, char_start - line_start));
    if (c == '\r' && pos < text.size() && text[pos] == '\n') ++pos;
    line_start = pos;
  }
  if (line_start < text.size()) lines.push_back(text.substr(line_start));
  return lines;
}

int64_t SlowLength(std::string_view text) {
  int64_t length = 0;
  for (size_t pos = 0; pos < text.size(); ++length) py::DecodeAt(text, &pos);
  return length;
}

// Pieces that are, or look like, line breaks: U+0085 is C2 85, and C2 A0
// (NBSP) is not a break; U+2028/9 are E2 80 A8/A9, and E2 80 A6 (…) is not.
constexpr const char* kPieces[] = {"a",          "word ",
                                   "\n",         "\r",
                                   "\r\n",       "\n\r",
                                   "\v",         "\f",
                                   "\x1c",       "\x1d",
                                   "\x1e",       "\x1f",
                                   "\t",         "\u0085",
                                   "\u00a0",     "\u2028",
                                   "\u2029",     "\u2026",
                                   "\u00e9",     "\u4eba",
                                   "\U0001F600", "abcdefghijklmnop",
                                   "        "};

std::string RandomText(std::mt19937& random) {
  std::string text;
  const int pieces = static_cast<int>(random() % 40);
  for (int i = 0; i < pieces; ++i)
    text += kPieces[random() % std::size(kPieces)];
  return text;
}

TEST(PythonTextTest, SplitLinesMatchesADecodingReference) {
  std::mt19937 random(11);
  for (int round = 0; round < 3000; ++round) {
    const std::string text = RandomText(random);
    SCOPED_TRACE(text);
    std::vector<std::string_view> lines;
    py::SplitLines(text, &lines);
    EXPECT_EQ(lines, SlowSplitLines(text));
  }
}

TEST(PythonTextTest, SplitLinesSplitsAtEveryBreakOfStrSplitlines) {
  std::vector<std::string_view> lines;
  py::SplitLines("a\nb\r\nc\rd\ve\ff\x1cg\x1dh\x1ei\u0085j\u2028k\u2029l",
                 &lines);
  EXPECT_EQ(lines,
            (std::vector<std::string_view>{"a", "b", "c", "d", "e", "f", "g",
                                           "h", "i", "j", "k", "l"}));
  lines.clear();
  // Not breaks: U+001F, NBSP, U+2026; a final break makes no empty line.
  py::SplitLines("a\x1f\u00a0\u2026b\n", &lines);
  EXPECT_EQ(lines, (std::vector<std::string_view>{"a\x1f\u00a0\u2026b"}));
}

TEST(PythonTextTest, LengthCountsCodePoints) {
  EXPECT_EQ(py::Length(""), 0);
  EXPECT_EQ(py::Length("a\u00e9\u4eba\U0001F600"), 4);
  std::mt19937 random(12);
  for (int round = 0; round < 3000; ++round) {
    const std::string text = RandomText(random);
    EXPECT_EQ(py::Length(text), SlowLength(text)) << text;
  }
}

}  // namespace
}  // namespace needle
