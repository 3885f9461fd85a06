#pragma once
// The character classes that Python's `re` and `str` methods use on Unicode
// text, for code that reproduces Python tokenizers (NLTK's, through
// datatrove) without regular expressions. ASCII is answered from a table;
// other code points from utf8proc's general categories (Unicode 15.0, where
// Python 3.11 has 14.0: the code points new in 15.0 may differ).
//
// Text is valid UTF-8 (the parser checked it); positions are byte offsets
// at code point starts.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace needle::python_chars {

// The code point that starts at byte `i`, and its length in bytes. A
// sequence cut off by the end of `s` (never in valid UTF-8) reads as one
// byte of U+FFFD rather than past the end.
inline char32_t DecodeAt(std::string_view s, size_t i, size_t* length) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    *length = 1;
    return b0;
  }
  const size_t needed = b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4;
  if (i + needed > s.size()) {
    *length = 1;
    return 0xFFFD;
  }
  auto cont = [&](size_t k) {
    return static_cast<char32_t>(static_cast<unsigned char>(s[i + k]) & 0x3F);
  };
  if (b0 < 0xE0) {
    *length = 2;
    return (static_cast<char32_t>(b0 & 0x1F) << 6) | cont(1);
  }
  if (b0 < 0xF0) {
    *length = 3;
    return (static_cast<char32_t>(b0 & 0x0F) << 12) | (cont(1) << 6) | cont(2);
  }
  *length = 4;
  return (static_cast<char32_t>(b0 & 0x07) << 18) | (cont(1) << 12) |
         (cont(2) << 6) | cont(3);
}

inline char32_t DecodeAt(std::string_view s, size_t i) {
  size_t length = 0;
  return DecodeAt(s, i, &length);
}

// The start of the code point that ends just before byte `i` (i > 0).
inline size_t PreviousStart(std::string_view s, size_t i) {
  do {
    --i;
  } while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80);
  return i;
}

// Bits of kAsciiClass.
enum : uint8_t {
  kSpaceBit = 1,  // str.isspace(), re's \s
  kWordBit = 2,   // re's \w: str.isalnum() or "_"
  kDigitBit = 4,  // re's \d: decimal digits (Nd)
  kUpperBit = 8,  // str.isupper()
  kLowerBit = 16,
};

constexpr std::array<uint8_t, 128> MakeAsciiClass() {
  std::array<uint8_t, 128> table{};
  for (char32_t c = 0; c < 128; ++c) {
    uint8_t bits = 0;
    // \t \n \v \f \r, the information separators U+001C..U+001F, space.
    if ((c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20)) {
      bits |= kSpaceBit;
    }
    if (c >= '0' && c <= '9') bits |= kWordBit | kDigitBit;
    if (c >= 'A' && c <= 'Z') bits |= kWordBit | kUpperBit;
    if (c >= 'a' && c <= 'z') bits |= kWordBit | kLowerBit;
    if (c == '_') bits |= kWordBit;
    table[c] = bits;
  }
  return table;
}

inline constexpr std::array<uint8_t, 128> kAsciiClass = MakeAsciiClass();

// Non-ASCII halves of the predicates below.
bool IsSpaceSlow(char32_t c);
bool IsWordSlow(char32_t c);
bool IsDigitSlow(char32_t c);
bool IsUpperSlow(char32_t c);
bool IsLowerSlow(char32_t c);

// str.isspace(): what str.split() and str.strip() remove, and re's \s.
// Includes U+001C..U+001F, U+0085 and U+00A0; not U+200B.
inline bool IsSpace(char32_t c) {
  return c < 128 ? (kAsciiClass[c] & kSpaceBit) != 0 : IsSpaceSlow(c);
}
// re's \w: letters (L*), numbers (N*) and "_". Marks (M*) are not \w.
inline bool IsWord(char32_t c) {
  return c < 128 ? (kAsciiClass[c] & kWordBit) != 0 : IsWordSlow(c);
}
// re's \d: Unicode decimal digits (Nd).
inline bool IsDigit(char32_t c) {
  return c < 128 ? (kAsciiClass[c] & kDigitBit) != 0 : IsDigitSlow(c);
}
// str.isupper() / str.islower() of one character: the Unicode Uppercase and
// Lowercase properties (Lu or Ll plus Other_Uppercase / Other_Lowercase).
inline bool IsUpper(char32_t c) {
  return c < 128 ? (kAsciiClass[c] & kUpperBit) != 0 : IsUpperSlow(c);
}
inline bool IsLower(char32_t c) {
  return c < 128 ? (kAsciiClass[c] & kLowerBit) != 0 : IsLowerSlow(c);
}

// The length in bytes of the whitespace code point at byte `i`, or 0.
inline size_t SpaceLengthAt(std::string_view s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) return (kAsciiClass[b] & kSpaceBit) != 0 ? 1 : 0;
  // Every non-ASCII space starts with C2, E1, E2 or E3.
  if (b != 0xC2 && (b < 0xE1 || b > 0xE3)) return 0;
  size_t length = 0;
  const char32_t c = DecodeAt(s, i, &length);
  return IsSpaceSlow(c) ? length : 0;
}

}  // namespace needle::python_chars
