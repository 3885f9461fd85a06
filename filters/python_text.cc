#include "filters/python_text.h"

#include <utf8proc.h>

#include <array>
#include <cstring>

#include "pipeline/utf8.h"

namespace needle::python_text {

int64_t Length(std::string_view text) { return CountCodePoints(text); }

bool IsAlpha(char32_t c) {
  if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return true;
    default:
      return false;
  }
}

std::string_view LStrip(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t next = pos;
    if (!IsSpace(DecodeAt(text, &next))) break;
    pos = next;
  }
  return text.substr(pos);
}

std::string_view RStrip(std::string_view text) {
  size_t end = text.size();
  while (end > 0) {
    size_t start = end - 1;
    // Back to the lead byte of the last code point.
    while (start > 0 &&
           (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) {
      --start;
    }
    size_t next = start;
    if (!IsSpace(DecodeAt(text, &next))) break;
    end = start;
  }
  return text.substr(0, end);
}

std::string_view Strip(std::string_view text) { return RStrip(LStrip(text)); }

namespace {

// Bytes that start a line break: the ASCII ones themselves, and the lead
// bytes of U+0085 (C2 85) and U+2028, U+2029 (E2 80 A8, E2 80 A9).
constexpr std::array<bool, 256> MakeLineBreakStart() {
  std::array<bool, 256> table{};
  for (const unsigned char c :
       {0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0xC2, 0xE2}) {
    table[c] = true;
  }
  return table;
}
constexpr std::array<bool, 256> kLineBreakStart = MakeLineBreakStart();

// Whether any of the eight bytes of `x` is below 0x1F or above 0x7F, i.e.
// might start a line break (a few other bytes pass too, which costs only a
// look at them).
bool MayHoldLineBreak(uint64_t x) {
  constexpr uint64_t kHighBits = 0x8080808080808080u;
  constexpr uint64_t kOnes = 0x0101010101010101u;
  return (((x - kOnes * 0x1F) & ~x) | x) & kHighBits;
}

// The size of the line break at text[i], 0 if there is none.
size_t LineBreakAt(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) {
    return k < text.size() ? static_cast<unsigned char>(text[k]) : 0;
  };
  switch (byte(i)) {
    case 0x0D:
      return byte(i + 1) == 0x0A ? 2 : 1;  // "\r\n" is one break
    case 0xC2:
      return byte(i + 1) == 0x85 ? 2 : 0;
    case 0xE2:
      return byte(i + 1) == 0x80 && (byte(i + 2) | 1) == 0xA9 ? 3 : 0;
    default:
      return kLineBreakStart[byte(i)] ? 1 : 0;
  }
}

}  // namespace

void SplitLines(std::string_view text, std::vector<std::string_view>* out) {
  size_t line_start = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    // Skip eight plain bytes at a time: most lines are long.
    uint64_t x = 0;
    if (pos + 8 <= text.size() &&
        (std::memcpy(&x, text.data() + pos, 8), !MayHoldLineBreak(x))) {
      pos += 8;
      continue;
    }
    const size_t size = kLineBreakStart[static_cast<unsigned char>(text[pos])]
                            ? LineBreakAt(text, pos)
                            : 0;
    if (size == 0) {
      ++pos;
      continue;
    }
    out->push_back(text.substr(line_start, pos - line_start));
    pos += size;
    line_start = pos;
  }
  if (line_start < text.size()) out->push_back(text.substr(line_start));
}

int64_t Count(std::string_view text, std::string_view sub) {
  int64_t count = 0;
  for (size_t pos = text.find(sub); pos != std::string_view::npos;
       pos = text.find(sub, pos + sub.size())) {
    ++count;
  }
  return count;
}

}  // namespace needle::python_text
