#include "filters/python_chars.h"

#include <utf8proc.h>

#include <iterator>

namespace needle::python_chars {
namespace {

struct Range {
  char32_t first;
  char32_t last;
};

bool InRanges(char32_t c, const Range* ranges, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    if (c < ranges[i].first) return false;
    if (c <= ranges[i].last) return true;
  }
  return false;
}

// Other_Uppercase and Other_Lowercase as Python 3.11's tables (Unicode
// 14.0) have them: what str.isupper()/islower() count beyond Lu and Ll.
constexpr Range kOtherUppercase[] = {{0x2160, 0x216F},
                                     {0x24B6, 0x24CF},
                                     {0x1F130, 0x1F149},
                                     {0x1F150, 0x1F169},
                                     {0x1F170, 0x1F189}};
constexpr Range kOtherLowercase[] = {
    {0x00AA, 0x00AA},   {0x00BA, 0x00BA},   {0x02B0, 0x02B8},
    {0x02C0, 0x02C1},   {0x02E0, 0x02E4},   {0x0345, 0x0345},
    {0x037A, 0x037A},   {0x1D2C, 0x1D6A},   {0x1D78, 0x1D78},
    {0x1D9B, 0x1DBF},   {0x2071, 0x2071},   {0x207F, 0x207F},
    {0x2090, 0x209C},   {0x2170, 0x217F},   {0x24D0, 0x24E9},
    {0x2C7C, 0x2C7D},   {0xA69C, 0xA69D},   {0xA770, 0xA770},
    {0xA7F8, 0xA7F9},   {0xAB5C, 0xAB5F},   {0x10780, 0x10780},
    {0x10783, 0x10785}, {0x10787, 0x107B0}, {0x107B2, 0x107BA}};

}  // namespace

bool IsSpaceSlow(char32_t c) {
  // Python's list (Objects/unicodetype_db.h): bidirectional class WS, B or
  // S, or category Zs. U+180E left Zs in Unicode 6.3.
  switch (c) {
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

bool IsWordSlow(char32_t c) {
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

bool IsDigitSlow(char32_t c) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c)) ==
         UTF8PROC_CATEGORY_ND;
}

bool IsUpperSlow(char32_t c) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c)) ==
             UTF8PROC_CATEGORY_LU ||
         InRanges(c, kOtherUppercase, std::size(kOtherUppercase));
}

bool IsLowerSlow(char32_t c) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c)) ==
             UTF8PROC_CATEGORY_LL ||
         InRanges(c, kOtherLowercase, std::size(kOtherLowercase));
}

}  // namespace needle::python_chars
