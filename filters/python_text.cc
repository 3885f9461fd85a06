#include "filters/python_text.h"

#include <utf8proc.h>

namespace needle::python_text {

char32_t DecodeAt(std::string_view text, size_t* pos) {
  const auto byte = [&](size_t i) {
    return static_cast<char32_t>(static_cast<unsigned char>(text[i]));
  };
  const size_t i = *pos;
  const char32_t lead = byte(i);
  if (lead < 0x80) {
    *pos = i + 1;
    return lead;
  }
  if (lead < 0xE0) {
    *pos = i + 2;
    return ((lead & 0x1F) << 6) | (byte(i + 1) & 0x3F);
  }
  if (lead < 0xF0) {
    *pos = i + 3;
    return ((lead & 0x0F) << 12) | ((byte(i + 1) & 0x3F) << 6) |
           (byte(i + 2) & 0x3F);
  }
  *pos = i + 4;
  return ((lead & 0x07) << 18) | ((byte(i + 1) & 0x3F) << 12) |
         ((byte(i + 2) & 0x3F) << 6) | (byte(i + 3) & 0x3F);
}

int64_t Length(std::string_view text) {
  int64_t length = 0;
  // Every byte but a continuation byte (10xxxxxx) starts a code point.
  for (const char c : text)
    length += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return length;
}

bool IsSpace(char32_t c) {
  if (c < 0x80) return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
  return c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

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

void SplitLines(std::string_view text, std::vector<std::string_view>* out) {
  size_t line_start = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t char_start = pos;
    const char32_t c = DecodeAt(text, &pos);
    const bool line_end = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C ||
                          (c >= 0x1C && c <= 0x1E) || c == 0x85 ||
                          c == 0x2028 || c == 0x2029;
    if (!line_end) continue;
    out->push_back(text.substr(line_start, char_start - line_start));
    if (c == '\r' && pos < text.size() && text[pos] == '\n') ++pos;
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
