#include "stages/pretokenizer.h"

#include <array>

namespace needle {
namespace {

using Byte = unsigned char;

constexpr std::string_view kCl100kPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kO200kPattern =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kR50kPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

struct Char {
  char32_t cp;
  uint8_t size;  // bytes
  CharClass cls;
};

constexpr std::array<CharClass, 128> kAsciiClasses = [] {
  std::array<CharClass, 128> classes{};
  for (int c = 0; c < 128; ++c) {
    if ((c >= '\t' && c <= '\r') || c == ' ') {
      classes[c] = CharClass::kSpace;
    } else if (c >= '0' && c <= '9') {
      classes[c] = CharClass::kNumber;
    } else if (c >= 'A' && c <= 'Z') {
      classes[c] = CharClass::kUpper;
    } else if (c >= 'a' && c <= 'z') {
      classes[c] = CharClass::kLower;
    }
  }
  return classes;
}();

// Class tests, as lambdas so that Text::RunEnd inlines them.
// \p{L}
constexpr auto kIsLetter = [](CharClass c) {
  return c == CharClass::kUpper || c == CharClass::kLower ||
         c == CharClass::kLetter;
};
// [^\s\p{L}\p{N}]
constexpr auto kIsSymbol = [](CharClass c) {
  return c == CharClass::kOther || c == CharClass::kMark;
};
// \p{N}
constexpr auto kIsNumber = [](CharClass c) { return c == CharClass::kNumber; };
// o200k's [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
constexpr auto kIsUpperish = [](CharClass c) {
  return c == CharClass::kUpper || c == CharClass::kLetter ||
         c == CharClass::kMark;
};
// o200k's [\p{Ll}\p{Lm}\p{Lo}\p{M}]
constexpr auto kIsLowerish = [](CharClass c) {
  return c == CharClass::kLower || c == CharClass::kLetter ||
         c == CharClass::kMark;
};
bool IsNewline(char32_t cp) { return cp == '\r' || cp == '\n'; }

// The text being split, with UTF-8 decoding. Positions are pointers into it.
class Text {
 public:
  Text(std::string_view text, const CharClasses& classes)
      : end_(reinterpret_cast<const Byte*>(text.data()) + text.size()),
        classes_(classes) {}

  const Byte* end() const { return end_; }

  // The character at `p` < end(). An invalid sequence is one byte of
  // class kOther.
  Char At(const Byte* p) const {
    const Byte b0 = p[0];
    if (b0 < 0x80) return {b0, 1, kAsciiClasses[b0]};
    return AtMultibyte(p);
  }

  [[gnu::noinline]] Char AtMultibyte(const Byte* p) const {
    const Byte b0 = p[0];
    constexpr Char kInvalid = {0xFFFD, 1, CharClass::kOther};
    char32_t cp = 0;
    uint8_t size = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      cp = b0 & 0x1F;
      size = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      cp = b0 & 0x0F;
      size = 3;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      cp = b0 & 0x07;
      size = 4;
    } else {
      return kInvalid;
    }
    if (static_cast<size_t>(end_ - p) < size) return kInvalid;
    for (uint8_t i = 1; i < size; ++i) {
      if ((p[i] & 0xC0) != 0x80) return kInvalid;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((size == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (size == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return kInvalid;
    }
    return {cp, size, classes_.Of(cp)};
  }

  // The end of the run of characters from `p` for which keep(class) holds.
  template <class Keep>
  const Byte* RunEnd(const Byte* p, Keep keep) const {
    while (p < end_) {
      if (*p < 0x80) {  // most text: no decoding
        if (!keep(kAsciiClasses[*p])) break;
        ++p;
        continue;
      }
      const Char c = AtMultibyte(p);
      if (!keep(c.cls)) break;
      p += c.size;
    }
    return p;
  }

  // Up to `most` \p{N} characters from `p`.
  const Byte* NumbersEnd(const Byte* p, int most) const {
    for (int i = 0; i < most && p < end_; ++i) {
      const Char c = At(p);
      if (c.cls != CharClass::kNumber) break;
      p += c.size;
    }
    return p;
  }

  // The length of a contraction after an apostrophe (`p` just past it), or
  // 0: s t m d re ve ll. With `ignore_case`, as the regex crate folds case:
  // ASCII both ways, and U+017F (long s) for s.
  size_t ContractionSize(const Byte* p, bool ignore_case) const {
    if (p >= end_) return 0;
    auto lower = [ignore_case](Byte b) {
      return ignore_case && b >= 'A' && b <= 'Z' ? static_cast<Byte>(b + 32)
                                                 : b;
    };
    const Byte a = lower(p[0]);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 1;
    if (ignore_case && a == 0xC5 && end_ - p >= 2 && p[1] == 0xBF) return 2;
    if (end_ - p < 2) return 0;
    const Byte b = lower(p[1]);
    if (((a == 'r' || a == 'v') && b == 'e') || (a == 'l' && b == 'l')) {
      return 2;
    }
    return 0;
  }

  // The whitespace alternatives, from `p` at a \s character:
  //   \s*[\r\n]+  (when `newlines`): through the run's last \r or \n;
  //   \s+(?!\S)   the run, less its last character when a non-space
  //               follows, as long as one character remains;
  //   \s+         else the one character.
  const Byte* WhitespaceEnd(const Byte* p, bool newlines) const {
    const Byte* q = p;
    const Byte* last = p;  // start of the run's last character
    const Byte* after_newline = nullptr;
    while (q < end_) {
      const Char c = At(q);
      if (c.cls != CharClass::kSpace) break;
      last = q;
      q += c.size;
      if (IsNewline(c.cp)) after_newline = q;
    }
    if (newlines && after_newline != nullptr) return after_newline;
    if (q == end_ || last == p) return q;
    return last;
  }

 private:
  const Byte* end_;
  const CharClasses& classes_;
};

// cl100k_base, alternative by alternative (the first that matches wins):
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)   a contraction
//   [^\r\n\p{L}\p{N}]?\p{L}+       letters, with at most one leading
//                                  character that is none of those
//   \p{N}{1,3}                     up to three digits
//    ?[^\s\p{L}\p{N}]+[\r\n]*      symbols, one space before, newlines after
//   \s*[\r\n]+ | \s+(?!\S) | \s+   whitespace (Text::WhitespaceEnd)
// The optional prefix never needs backtracking: if it matched, the letters
// cannot start at it instead.
const Byte* Cl100kNext(const Text& text, const Byte* p) {
  const Byte* end = text.end();
  const Char c = text.At(p);
  if (c.cp == '\'') {
    if (const size_t n = text.ContractionSize(p + 1, true)) return p + 1 + n;
  }
  if (kIsLetter(c.cls)) return text.RunEnd(p + c.size, kIsLetter);
  const Byte* next = p + c.size;
  if (c.cls != CharClass::kNumber && !IsNewline(c.cp) && next < end) {
    const Char d = text.At(next);
    if (kIsLetter(d.cls)) return text.RunEnd(next + d.size, kIsLetter);
  }
  if (c.cls == CharClass::kNumber) return text.NumbersEnd(next, 2);
  const Byte* symbols = c.cp == ' ' ? next : p;
  if (symbols < end && kIsSymbol(text.At(symbols).cls)) {
    const Byte* q = text.RunEnd(symbols, kIsSymbol);
    while (q < end && (*q == '\r' || *q == '\n')) ++q;
    return q;
  }
  return text.WhitespaceEnd(p, true);
}

// r50k_base (GPT-2):
//   's|'t|'re|'ve|'m|'ll|'d        a contraction, lower case only
//    ?\p{L}+ |  ?\p{N}+ |  ?[^\s\p{L}\p{N}]+
//                                  one class's run, one space before
//   \s+(?!\S) | \s+                whitespace, no newline rule
const Byte* R50kNext(const Text& text, const Byte* p) {
  const Byte* end = text.end();
  const Char c = text.At(p);
  if (c.cp == '\'') {
    if (const size_t n = text.ContractionSize(p + 1, false)) return p + 1 + n;
  }
  const Byte* q = p;
  Char d = c;
  if (c.cp == ' ' && p + 1 < end) d = text.At(q = p + 1);
  if (kIsLetter(d.cls)) return text.RunEnd(q + d.size, kIsLetter);
  if (d.cls == CharClass::kNumber) {
    return text.RunEnd(q + d.size, kIsNumber);
  }
  if (kIsSymbol(d.cls)) return text.RunEnd(q + d.size, kIsSymbol);
  return text.WhitespaceEnd(p, false);
}

// o200k_base's two word alternatives, U = [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
// and W = [\p{Ll}\p{Lm}\p{Lo}\p{M}] (Lm, Lo and M are in both):
//   A: P? U* W+ C?    B: P? U+ W* C?
// with P = [^\r\n\p{L}\p{N}] and C the optional contraction. The engine
// tries A with P, A without P, B with P, B without P. P is a mark, a space
// or a symbol; only a mark can also start U, so "without P" matters only
// there.
//
// A from `p`: U* takes the longest run; W+ then needs a W after it, which
// can only be a lowercase letter (anything else in W is also in U). If
// there is none, U* backs off to the last character of its run that is
// also in W, and W+ takes just that one. Returns null when neither works.
const Byte* O200kWordA(const Text& text, const Byte* p) {
  const Byte* end = text.end();
  const Byte* q = p;
  const Byte* after_last_both = nullptr;
  while (q < end) {
    const Char c = text.At(q);
    if (!kIsUpperish(c.cls)) break;
    q += c.size;
    if (kIsLowerish(c.cls)) after_last_both = q;
  }
  if (q < end) {
    const Char c = text.At(q);
    if (kIsLowerish(c.cls)) return text.RunEnd(q + c.size, kIsLowerish);
  }
  return after_last_both;
}

// B from `p`: U+ then W*, both greedy; null when U+ finds nothing.
const Byte* O200kWordB(const Text& text, const Byte* p) {
  const Byte* q = text.RunEnd(p, kIsUpperish);
  if (q == p) return nullptr;
  return text.RunEnd(q, kIsLowerish);
}

// o200k_base:
//   P?U*W+C? | P?U+W*C?            words, as above
//   \p{N}{1,3}                     up to three digits
//    ?[^\s\p{L}\p{N}]+[\r\n/]*     symbols, then newlines and slashes
//   \s*[\r\n]+ | \s+(?!\S) | \s+   whitespace
const Byte* O200kNext(const Text& text, const Byte* p) {
  const Byte* end = text.end();
  const Char c = text.At(p);
  const bool prefix = !kIsLetter(c.cls) && c.cls != CharClass::kNumber &&
                      !IsNewline(c.cp) && p + c.size < end;
  const Byte* starts[2] = {p + c.size, p};
  const int first = prefix ? 0 : 1;
  for (auto* word : {O200kWordA, O200kWordB}) {
    for (int i = first; i < 2; ++i) {
      if (const Byte* q = word(text, starts[i])) {
        if (q < end && *q == '\'') {
          if (const size_t n = text.ContractionSize(q + 1, true)) {
            return q + 1 + n;
          }
        }
        return q;
      }
    }
  }
  if (c.cls == CharClass::kNumber) return text.NumbersEnd(p + c.size, 2);
  const Byte* symbols = c.cp == ' ' ? p + 1 : p;
  if (symbols < end && kIsSymbol(text.At(symbols).cls)) {
    const Byte* q = text.RunEnd(symbols, kIsSymbol);
    while (q < end && (*q == '\r' || *q == '\n' || *q == '/')) ++q;
    return q;
  }
  return text.WhitespaceEnd(p, true);
}

}  // namespace

std::string_view PatternString(PiecePattern pattern) {
  switch (pattern) {
    case PiecePattern::kCl100k:
      return kCl100kPattern;
    case PiecePattern::kO200k:
      return kO200kPattern;
    case PiecePattern::kR50k:
      return kR50kPattern;
  }
  return {};
}

Pretokenizer::Pretokenizer(PiecePattern pattern)
    : pattern_(pattern), classes_(&CharClasses::Get()) {}

size_t Pretokenizer::Next(std::string_view text, size_t pos) const {
  const Text scan(text, *classes_);
  const auto* begin = reinterpret_cast<const Byte*>(text.data());
  const Byte* p = begin + pos;
  switch (pattern_) {
    case PiecePattern::kCl100k:
      return Cl100kNext(scan, p) - begin;
    case PiecePattern::kO200k:
      return O200kNext(scan, p) - begin;
    case PiecePattern::kR50k:
      return R50kNext(scan, p) - begin;
  }
  return text.size();
}

std::vector<std::string_view> Pretokenizer::Split(std::string_view text) const {
  std::vector<std::string_view> pieces;
  for (size_t pos = 0; pos < text.size();) {
    const size_t end = Next(text, pos);
    pieces.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return pieces;
}

}  // namespace needle
