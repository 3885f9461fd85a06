#include "stages/pretokenizer.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "tests/stages/token_fixtures.h"
#include "tests/test_util.h"

namespace needle {
namespace {

using testing::FixtureTexts;
using testing::MakeTempDir;
using testing::ModelPath;
using testing::ReadFile;
using testing::RunNode;
using testing::WriteFile;
using testing::WritePackedTexts;

// ------------------------------------------------------- character classes

TEST(UnicodeClassesTest, HoldUnicode16sCategoriesAsTiktokensRegexCrateDoes) {
  const CharClasses& classes = CharClasses::Get();
  size_t counts[7] = {};
  for (char32_t cp = 0; cp < 0x110000; ++cp) {
    ++counts[static_cast<int>(classes.Of(cp))];
  }
  // Unicode 16.0's counts: White_Space; N; Lu + Lt; Ll; Lm + Lo; M.
  EXPECT_EQ(counts[static_cast<int>(CharClass::kSpace)], 25u);
  EXPECT_EQ(counts[static_cast<int>(CharClass::kNumber)], 1911u);
  EXPECT_EQ(counts[static_cast<int>(CharClass::kUpper)], 1858u + 31u);
  EXPECT_EQ(counts[static_cast<int>(CharClass::kLower)], 2258u);
  EXPECT_EQ(counts[static_cast<int>(CharClass::kLetter)], 404u + 136477u);
  EXPECT_EQ(counts[static_cast<int>(CharClass::kMark)], 2501u);
  // New in 16.0, so ICU 72 (Unicode 15.0) calls them unassigned: Garay's
  // capital and small A and a vowel sign, an outlined digit.
  EXPECT_EQ(classes.Of(0x10D50), CharClass::kUpper);
  EXPECT_EQ(classes.Of(0x10D70), CharClass::kLower);
  EXPECT_EQ(classes.Of(0x10D69), CharClass::kMark);
  EXPECT_EQ(classes.Of(0x1CCF0), CharClass::kNumber);
  // \s is White_Space: U+0085 and U+00A0 are in, U+200B and U+FEFF are not.
  EXPECT_EQ(classes.Of(0x85), CharClass::kSpace);
  EXPECT_EQ(classes.Of(0xA0), CharClass::kSpace);
  EXPECT_EQ(classes.Of(0x200B), CharClass::kOther);
  EXPECT_EQ(classes.Of(0xFEFF), CharClass::kOther);
  EXPECT_EQ(classes.Of(0x1C5), CharClass::kUpper);  // Dž, titlecase
}

// --------------------------------------------- against a backtracking engine

// The code point ranges of each class, as tests/stages/regex_pieces.cjs
// reads them.
std::string ClassesJson() {
  const char* names[] = {"other", "space",  "number", "upper",
                         "lower", "letter", "mark"};
  std::vector<std::string> ranges(7);
  const CharClasses& classes = CharClasses::Get();
  char32_t first = 0;
  for (char32_t cp = 1; cp <= 0x110000; ++cp) {
    if (cp < 0x110000 && classes.Of(cp) == classes.Of(first)) continue;
    std::string& list = ranges[static_cast<int>(classes.Of(first))];
    list += fmt::format("{}[{},{}]", list.empty() ? "" : ",", uint32_t{first},
                        uint32_t{cp - 1});
    first = cp;
  }
  std::string json = "{";
  for (int i = 0; i < 7; ++i) {
    json += fmt::format("{}\"{}\":[{}]", i ? "," : "", names[i], ranges[i]);
  }
  return json + "}";
}

std::string Escaped(std::string_view piece) {
  std::string out;
  for (const char c : piece) {
    const auto u = static_cast<unsigned char>(c);
    out += u < 0x20 ? fmt::format("\\x{:02x}", u) : std::string(1, c);
  }
  return out;
}

// Splits every fixture text by the encoding's pat_str in V8's regex engine
// and by our pre-tokenizer, and compares the pieces one by one.
void ExpectPiecesEqualTheRegexEngine(const std::string& encoding,
                                     PiecePattern pattern) {
  const auto& texts = FixtureTexts();
  const std::string dir = MakeTempDir();
  WriteFile(dir + "/classes.json", ClassesJson());
  WritePackedTexts(texts, dir + "/texts.bin");
  RunNode("regex_pieces.cjs", {ModelPath(encoding), dir + "/classes.json",
                               dir + "/texts.bin", dir + "/pieces.bin"});
  const std::string pieces = ReadFile(dir + "/pieces.bin");
  size_t at = 0;
  auto next = [&]() {
    uint32_t value = 0;
    if (at + 4 > pieces.size()) throw std::runtime_error("pieces.bin is short");
    for (int i = 3; i >= 0; --i) {
      value = (value << 8) | static_cast<unsigned char>(pieces[at + i]);
    }
    at += 4;
    return value;
  };
  const Pretokenizer pretokenizer(pattern);
  size_t compared = 0;
  size_t mismatches = 0;
  for (const auto& [name, text] : texts) {
    const uint32_t count = next();
    size_t pos = 0;
    bool same = true;
    for (uint32_t i = 0; i < count; ++i) {
      const size_t size = next();
      const size_t end = pos < text.size() ? pretokenizer.Next(text, pos) : pos;
      if (same && end - pos != size) {
        same = false;
        if (++mismatches <= 5) {
          ADD_FAILURE() << name << ", piece " << i << " at byte " << pos
                        << ": the regex engine's is \""
                        << Escaped(std::string_view(text).substr(pos, size))
                        << "\", ours \""
                        << Escaped(
                               std::string_view(text).substr(pos, end - pos))
                        << "\"";
        }
      }
      pos += size;
      ++compared;
    }
  }
  EXPECT_EQ(mismatches, 0u) << "of " << texts.size() << " documents";
  EXPECT_EQ(at, pieces.size());
  std::printf(
      "%s: %zu documents, %zu pieces, as the regex engine splits them\n",
      encoding.c_str(), texts.size(), compared);
}

TEST(PretokenizerTest, Cl100kPiecesEqualABacktrackingRegexEngine) {
  ExpectPiecesEqualTheRegexEngine("cl100k_base", PiecePattern::kCl100k);
}

TEST(PretokenizerTest, O200kPiecesEqualABacktrackingRegexEngine) {
  ExpectPiecesEqualTheRegexEngine("o200k_base", PiecePattern::kO200k);
}

TEST(PretokenizerTest, R50kPiecesEqualABacktrackingRegexEngine) {
  ExpectPiecesEqualTheRegexEngine("r50k_base", PiecePattern::kR50k);
}

// ------------------------------------------------------- pieces, by hand

std::vector<std::string_view> Split(PiecePattern pattern,
                                    std::string_view text) {
  return Pretokenizer(pattern).Split(text);
}
using Pieces = std::vector<std::string_view>;

TEST(PretokenizerTest, Cl100kSplitsAsItsPattern) {
  const auto cl100k = PiecePattern::kCl100k;
  // \s+(?!\S) leaves the last space to the word; \p{N}{1,3}; \s*[\r\n]+.
  EXPECT_EQ(Split(cl100k, "Hello  world's 12345\n\n  x"),
            (Pieces{"Hello", " ", " world", "'s", " ", "123", "45", "\n\n", " ",
                    " x"}));
  // Contractions ignore case, long s included; a curly apostrophe is a
  // symbol, which may lead a word.
  EXPECT_EQ(Split(cl100k, "I'LL x'\u017f don\u2019t"),
            (Pieces{"I", "'LL", " x", "'\u017f", " don", "\u2019t"}));
  // Symbols keep one space before and newlines after.
  EXPECT_EQ(Split(cl100k, "x !!!\n\n y"), (Pieces{"x", " !!!\n\n", " y"}));
  // Whitespace at the end stays whole; any one non-newline character leads
  // a word.
  EXPECT_EQ(Split(cl100k, "x \u00a0 "), (Pieces{"x", " \u00a0 "}));
  EXPECT_EQ(Split(cl100k, "\t\tx"), (Pieces{"\t", "\tx"}));
}

TEST(PretokenizerTest, O200kSplitsWordsByCase) {
  const auto o200k = PiecePattern::kO200k;
  EXPECT_EQ(Split(o200k, "HTMLParser isCamelCase don't McDONALD'S"),
            (Pieces{"HTMLParser", " is", "Camel", "Case", " don't", " Mc",
                    "DONALD'S"}));
  // A mark is in both case classes: alone before a capital it is a word,
  // matched without the optional leading character.
  EXPECT_EQ(Split(o200k, "\u0301A"), (Pieces{"\u0301", "A"}));
  // Symbols take newlines and slashes after them; digits go by three.
  EXPECT_EQ(Split(o200k, "x//\n//y 12345"),
            (Pieces{"x", "//\n//", "y", " ", "123", "45"}));
}

TEST(PretokenizerTest, R50kSplitsAsGpt2) {
  // No newline rule, digits unbounded, contractions in lower case only.
  EXPECT_EQ(Split(PiecePattern::kR50k, "Hello\n\nworld 123456 it's I'LL"),
            (Pieces{"Hello", "\n", "\n", "world", " 123456", " it", "'s", " I",
                    "'", "LL"}));
}

TEST(PretokenizerTest, InvalidUtf8SplitsIntoWholeBytesLikeSymbols) {
  for (const PiecePattern pattern :
       {PiecePattern::kCl100k, PiecePattern::kO200k, PiecePattern::kR50k}) {
    EXPECT_EQ(Split(pattern,
                    "a\xff\xfe"
                    "b"),
              (Pieces{"a", "\xff\xfe", "b"}));
    EXPECT_EQ(Split(pattern, "ab\xe4\xb8"), (Pieces{"ab", "\xe4\xb8"}));
  }
  // Counting and encoding take any bytes and lose none of them.
  const std::string bytes = "\xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 ok\xe2\x82";
  const BpeTokenizer& tokenizer = testing::LoadedTokenizer("o200k_base");
  std::vector<uint32_t> ids;
  tokenizer.Encode(bytes, &ids);
  std::string decoded;
  for (const uint32_t id : ids) decoded += tokenizer.Bytes(id);
  EXPECT_EQ(decoded, bytes);
  BpeCache cache;
  EXPECT_EQ(tokenizer.Count(bytes, cache), static_cast<int64_t>(ids.size()));
}

}  // namespace
}  // namespace needle
