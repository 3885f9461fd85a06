#include "filters/treebank.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "filters/python_chars.h"

// The rule names below (SQ1..SQ5, P1..P9, PB, DD, E1..E5, C2, C3) number
// NLTKWordTokenizer's lists in the order tokenize() applies them:
// STARTING_QUOTES, PUNCTUATION, PARENS_BRACKETS, DOUBLE_DASHES,
// ENDING_QUOTES, CONTRACTIONS2, CONTRACTIONS3. Each is a re.sub: its matches
// are found left to right on the text as the previous rules left it, do not
// overlap, and do not see their own substitutions. Passes whose tests read
// the gaps they write mark their spaces kPending and commit them at the end.

namespace needle::words::internal {

using python_chars::DecodeAt;
using python_chars::IsDigit;
using python_chars::IsSpace;
using python_chars::IsWord;
using python_chars::PreviousStart;
using python_chars::SpaceLengthAt;
namespace {

constexpr size_t kNone = static_cast<size_t>(-1);

// Per byte gap of a chunk (index g: before byte g; index size: after the
// last byte).
enum : uint8_t {
  kSpace = 1,    // a rule inserted a space here
  kPending = 2,  // the current pass will have inserted one here
  kOpen = 4,     // this byte is a '"' or one of a "''" pair that the
                 // starting-quote rules turned into "``"
};

// The characters that trigger each group of rules, found while the chunk's
// end is searched for, so that a chunk runs only the passes it needs.
enum : uint16_t {
  kHasBacktick = 1 << 0,
  kHasDoubleQuote = 1 << 1,
  kHasQuote = 1 << 2,       // '
  kHasPeriod = 1 << 3,      // .
  kHasCommaColon = 1 << 4,  // , :
  kHasSymbol = 1 << 5,      // ; @ # $ % &
  kHasQuestion = 1 << 6,    // ? !
  kHasStar = 1 << 7,        // *
  kHasBracket = 1 << 8,     // ] [ ( ) { } < >
  kHasDash = 1 << 9,        // -
  kHasNonAscii = 1 << 10,   // C2 or E2, lead bytes of « “ ‘ „ » ” ’
  kHasOther = 1 << 11,      // other ASCII that is not \w: / + = ^ | \ ~ ...
  kAsciiSpace = 1 << 12,
  kMaybeSpace = 1 << 13,  // a lead byte of a non-ASCII space: C2, E1-E3
};

constexpr std::array<uint16_t, 256> MakeTriggers() {
  std::array<uint16_t, 256> t{};
  t['`'] = kHasBacktick;
  t['"'] = kHasDoubleQuote;
  t['\''] = kHasQuote;
  t['.'] = kHasPeriod;
  t[','] = t[':'] = kHasCommaColon;
  for (char c : std::string_view(";@#$%&")) {
    t[static_cast<unsigned char>(c)] = kHasSymbol;
  }
  t['?'] = t['!'] = kHasQuestion;
  t['*'] = kHasStar;
  for (char c : std::string_view("][(){}<>")) {
    t[static_cast<unsigned char>(c)] = kHasBracket;
  }
  t['-'] = kHasDash;
  for (int b = 0; b < 0x80; ++b) {
    const bool word = (b >= '0' && b <= '9') || (b >= 'A' && b <= 'Z') ||
                      (b >= 'a' && b <= 'z') || b == '_';
    if (!word && t[b] == 0) t[b] = kHasOther;
  }
  for (int b : {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20}) {
    t[b] = kAsciiSpace;
  }
  // Other non-ASCII bytes trigger nothing: the rules that look at letters
  // run with a quote (SQ5, C3), or whenever MayHoldContraction says so (C2).
  t[0xC2] = t[0xE2] = kHasNonAscii | kMaybeSpace;
  t[0xE1] = t[0xE3] = kMaybeSpace;
  return t;
}

constexpr std::array<uint16_t, 256> kTriggers = MakeTriggers();

uint16_t Trigger(char c) { return kTriggers[static_cast<unsigned char>(c)]; }

// What a chunk's rules can see of the sentence around it.
struct ChunkContext {
  bool sentence_start = false;  // the chunk starts the sentence (SQ2's ^)
  bool space_before = false;    // a ' ' precedes it (SQ4's [ (\[{<])
  // A ' ' precedes it once tokenize() has padded the text with spaces,
  // before ENDING_QUOTES (C3's leading ' ').
  bool space_before_padded = false;
  // A ' ' follows it for P8, and for the ending rules (E4, E5), which run
  // after the padding. After the last chunk, P1 leaves a space when it
  // matched.
  bool space_after_p8 = false;
  bool space_after_padded = false;
  size_t final_period = kNone;  // chunk offset of the period P1 splits off
};

// The first byte at or after i that may matter to the chunk scan, or the
// end: ASCII other than letters and digits, and the lead bytes C2..E3
// (which include those of every non-ASCII space and curly quote: C2, E1,
// E2, E3). Eight bytes at a time: a range test adds a bias to the low seven
// bits of each byte so that the top bit carries iff the byte reaches the
// bound.
size_t SkipPlain(std::string_view s, size_t i) {
  if constexpr (std::endian::native == std::endian::little) {
    constexpr uint64_t kOnes = 0x0101010101010101;
    constexpr uint64_t kHighs = kOnes * 0x80;
    auto at_least = [](uint64_t x, uint8_t bound) {
      return (x + kOnes * (0x80 - bound)) & kHighs;
    };
    for (; i + 8 <= s.size(); i += 8) {
      uint64_t v = 0;
      std::memcpy(&v, s.data() + i, 8);
      const uint64_t ascii = v & ~kHighs;
      const uint64_t folded = ascii | (kOnes * 0x20);
      const uint64_t letter =
          at_least(folded, 'a') & ~at_least(folded, 'z' + 1);
      const uint64_t digit = at_least(ascii, '0') & ~at_least(ascii, '9' + 1);
      // Non-ASCII bytes from C2 to E3 (E3 - 0x80 = 0x63).
      const uint64_t lead = at_least(ascii, 0x42) & ~at_least(ascii, 0x64) & v;
      const uint64_t stops = (~(letter | digit) & ~v & kHighs) | lead;
      if (stops != 0) {
        return i + static_cast<size_t>(std::countr_zero(stops)) / 8;
      }
    }
  }
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const bool plain = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                       (c >= 'A' && c <= 'Z') ||
                       (c >= 0x80 && (c < 0xC2 || c > 0xE3));
    if (!plain) break;
  }
  return i;
}

// Python's IGNORECASE equality of a code point with an ASCII letter, which
// also matches the dotless and dotted i and the long s with "i" and "s".
bool FoldEquals(char32_t c, char lower) {
  if (c == static_cast<char32_t>(lower) ||
      c == static_cast<char32_t>(lower - 'a' + 'A')) {
    return true;
  }
  if (lower == 'i') return c == 0x131 || c == 0x130;
  if (lower == 's') return c == 0x17F;
  return false;
}

// SQ5's (?!re|ve|ll|m|t|s|d|n) when a single word character follows the
// quote: only the one-letter alternatives can match there.
bool IsCliticLetter(char32_t c) {
  for (char letter : std::string_view("mtsdn")) {
    if (FoldEquals(c, letter)) return true;
  }
  return false;
}

// The closing characters P1 lets stand between the final period and the end
// of the sentence: [\]\)}>"\'»”’ ].
bool IsFinalCloser(char32_t c) {
  switch (c) {
    case ']':
    case ')':
    case '}':
    case '>':
    case '"':
    case '\'':
    case ' ':
    case 0xBB:
    case 0x201D:
    case 0x2019:
      return true;
    default:
      return false;
  }
}

// P1: the period that ([^\.])(\.)([\]\)}>"\'»”’ ]*)\s*$ finds, as a byte
// offset into the sentence, or kNone. It is the last period, followed only
// by closers and whitespace and preceded by something other than a period.
// A '"' or "''" after a space among the closers has already become "``" by
// then (SQ4), which is not a closer, so it stops the rule.
size_t FinalPeriod(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    const size_t p = PreviousStart(s, end);
    if (!IsSpace(DecodeAt(s, p))) break;
    end = p;
  }
  size_t start = end;
  while (start > 0) {
    const size_t p = PreviousStart(s, start);
    if (!IsFinalCloser(DecodeAt(s, p))) break;
    start = p;
  }
  if (start < 2 || s[start - 1] != '.' || s[start - 2] == '.') return kNone;
  for (size_t j = start + 1; j < end; ++j) {
    const bool opening =
        s[j] == '"' || (s[j] == '\'' && j + 1 < s.size() && s[j + 1] == '\'');
    if (opening && s[j - 1] == ' ') return kNone;
  }
  return start - 1;
}

// One chunk (a maximal run of non-whitespace) of a sentence.
class Chunk {
 public:
  Chunk(std::string_view w, const ChunkContext& context, uint8_t* flags)
      : w_(w), m_(w.size()), c_(context), f_(flags) {}

  void Run(uint16_t has) {
    if (has & (kHasBacktick | kHasNonAscii)) PadOpeningQuotes();
    if (has & kHasDoubleQuote) QuoteAtStart();
    if (has & (kHasDoubleQuote | kHasQuote)) ConvertOpeningQuotes();
    if (has & kHasQuote) SplitQuotedLetter();
    if (c_.final_period != kNone) Pad(c_.final_period, 1);
    if (has & kHasCommaColon) PadCommasAndColons();
    if (has & kHasPeriod) PadRuns('.', /*pairs=*/false);
    if (has & kHasSymbol) PadEach(kHasSymbol);
    if (has & kHasQuestion) PadEach(kHasQuestion);
    if (has & kHasQuote) PadQuoteBeforeSpace();
    if (has & kHasStar) PadEach(kHasStar);
    if (has & kHasBracket) PadEach(kHasBracket);
    if (has & kHasDash) PadRuns('-', /*pairs=*/true);
    if (has & kHasNonAscii) PadClosingQuotes();
    if (has & kHasQuote) PadQuotePairs();
    if (has & kHasDoubleQuote) PadDoubleQuotes();
    if (has & kHasQuote) SplitClitics();
    SplitContractions();
    if (has & kHasQuote) SplitTis();
  }

  void Emit(std::vector<std::string_view>* out) const {
    size_t start = 0;
    for (size_t g = 1; g <= m_; ++g) {
      if (g < m_ && !Space(g)) continue;
      if (f_[start] & kOpen) {
        out->push_back("``");
      } else if (w_[start] == '"') {
        out->push_back("''");  // E3 turned every other '"' into ''
      } else {
        out->push_back(w_.substr(start, g - start));
      }
      start = g;
    }
  }

 private:
  bool Space(size_t g) const { return (f_[g] & kSpace) != 0; }
  void Pad(size_t i, size_t length) {
    f_[i] |= kSpace;
    f_[i + length] |= kSpace;
  }
  void PadLater(size_t i, size_t length) {
    f_[i] |= kPending;
    f_[i + length] |= kPending;
  }
  void Commit() {
    for (size_t g = 0; g <= m_; ++g) {
      if (f_[g] & kPending) f_[g] = (f_[g] & ~kPending) | kSpace;
    }
  }
  bool IsQuote(size_t i) const { return w_[i] == '\'' && (f_[i] & kOpen) == 0; }
  // A ' ' follows position g for the ending rules (E4, E5).
  bool SpaceAtForEnding(size_t g) const {
    return g == m_ ? c_.space_after_padded : Space(g);
  }
  // The item before position i (> 0) is neither a quote nor a space: the
  // ([^' ]) of E4 and E5. At i == 0 a match would only pad the chunk's edge.
  bool NoQuoteOrSpaceBefore(size_t i) const {
    return i > 0 && !Space(i) && w_[i - 1] != '\'';
  }
  bool WordAt(size_t i) const { return i < m_ && IsWord(DecodeAt(w_, i)); }
  // \b after a word character ending at i.
  bool BoundaryAt(size_t i) const { return Space(i) || !WordAt(i); }

  // SQ1 ([«“‘„]|[`]+) pads, then SQ3 (``) pads each pair of backticks,
  // left to right within a run.
  void PadOpeningQuotes() {
    for (size_t i = 0; i < m_;) {
      const auto b = static_cast<unsigned char>(w_[i]);
      if (b == '`') {
        size_t k = i;
        while (k < m_ && w_[k] == '`') ++k;
        Pad(i, k - i);
        for (size_t t = i + 2; t < k; t += 2) f_[t] |= kSpace;
        i = k;
      } else if (b == 0xC2 && i + 1 < m_ &&
                 static_cast<unsigned char>(w_[i + 1]) == 0xAB) {
        Pad(i, 2);
        i += 2;
      } else if (b == 0xE2 && i + 2 < m_ &&
                 static_cast<unsigned char>(w_[i + 1]) == 0x80 &&
                 (static_cast<unsigned char>(w_[i + 2]) == 0x9C ||
                  static_cast<unsigned char>(w_[i + 2]) == 0x98 ||
                  static_cast<unsigned char>(w_[i + 2]) == 0x9E)) {
        Pad(i, 3);
        i += 3;
      } else {
        ++i;
      }
    }
  }

  // SQ2 ^\" becomes ``, which SQ3 then pads.
  void QuoteAtStart() {
    if (c_.sentence_start && w_[0] == '"') {
      f_[0] |= kOpen;
      f_[1] |= kSpace;
    }
  }

  // SQ4 ([ \(\[{<])(\"|\'{2}) becomes \1 `` .
  void ConvertOpeningQuotes() {
    for (size_t i = 0; i < m_; ++i) {
      const bool double_quote = w_[i] == '"' && (f_[i] & kOpen) == 0;
      const bool two_quotes = w_[i] == '\'' && i + 1 < m_ && w_[i + 1] == '\'';
      if (!double_quote && !two_quotes) continue;
      bool opens = false;
      if (i == 0) {
        opens = c_.space_before;
      } else {
        const char p = w_[i - 1];
        opens = Space(i) || p == '(' || p == '[' || p == '{' || p == '<';
      }
      if (!opens) continue;
      const size_t length = double_quote ? 1 : 2;
      for (size_t k = i; k < i + length; ++k) f_[k] |= kOpen;
      PadLater(i, length);
      i += length - 1;
    }
    Commit();
  }

  // SQ5 (?i)(\')(?!re|ve|ll|m|t|s|d|n)(\w)\b: a quote before a one-letter
  // word is split from it ('x -> ' x), unless the letter is a clitic's.
  void SplitQuotedLetter() {
    for (size_t i = 0; i + 1 < m_; ++i) {
      if (!IsQuote(i)) continue;
      size_t length = 0;
      const char32_t x = DecodeAt(w_, i + 1, &length);
      if (!IsWord(x) || WordAt(i + 1 + length) || IsCliticLetter(x)) continue;
      f_[i + 1] |= kSpace;
      i += length;
    }
  }

  // P2 ([:,])([^\d]) becomes " \1 \2", and P3 ([:,])$ pads a final one. The
  // match consumes the character after the comma, so in ",,a" only the
  // first comma is padded on both sides. After the chunk comes whitespace
  // (P2) or the end of the sentence (P3): either way the comma is padded.
  void PadCommasAndColons() {
    for (size_t i = 0; i < m_;) {
      if (w_[i] != ',' && w_[i] != ':') {
        ++i;
        continue;
      }
      if (i + 1 == m_) {
        PadLater(i, 1);
        break;
      }
      if (Space(i + 1)) {  // \2 is an inserted space
        PadLater(i, 1);
        ++i;
        continue;
      }
      size_t length = 0;
      if (IsDigit(DecodeAt(w_, i + 1, &length))) {
        ++i;
        continue;
      }
      PadLater(i, 1);
      i += 1 + length;
    }
    Commit();
  }

  // P4 \.{2,} pads each run of periods (pairs = false); DD -- pads each pair
  // of hyphens, left to right within a run (pairs = true).
  void PadRuns(char c, bool pairs) {
    for (size_t i = 0; i < m_;) {
      if (w_[i] != c) {
        ++i;
        continue;
      }
      size_t k = i;
      while (k < m_ && w_[k] == c) ++k;
      if (pairs) {
        for (size_t t = i; t + 2 <= k; t += 2) Pad(t, 2);
      } else if (k - i >= 2) {
        Pad(i, k - i);
      }
      i = k;
    }
  }

  // P5, P7, P9, PB: every character of the group is padded.
  void PadEach(uint16_t group) {
    for (size_t i = 0; i < m_; ++i) {
      if (Trigger(w_[i]) == group) Pad(i, 1);
    }
  }

  // P8 ([^'])' becomes "\1 ' ": a quote before a space. Before the ending
  // rules the space must be a real ' ' (or P1's, after the last chunk).
  void PadQuoteBeforeSpace() {
    for (size_t i = 1; i < m_; ++i) {
      if (!IsQuote(i)) continue;
      if (!Space(i) && w_[i - 1] == '\'') continue;
      const bool space_after = i + 1 == m_ ? c_.space_after_p8 : Space(i + 1);
      if (space_after) f_[i] |= kSpace;
    }
  }

  // E1 ([»”’]) pads.
  void PadClosingQuotes() {
    for (size_t i = 0; i < m_; ++i) {
      const auto b = static_cast<unsigned char>(w_[i]);
      if (b == 0xC2 && i + 1 < m_ &&
          static_cast<unsigned char>(w_[i + 1]) == 0xBB) {
        Pad(i, 2);
      } else if (b == 0xE2 && i + 2 < m_ &&
                 static_cast<unsigned char>(w_[i + 1]) == 0x80 &&
                 (static_cast<unsigned char>(w_[i + 2]) == 0x9D ||
                  static_cast<unsigned char>(w_[i + 2]) == 0x99)) {
        Pad(i, 3);
      }
    }
  }

  // E2 '' pads each pair of adjacent quotes, left to right.
  void PadQuotePairs() {
    for (size_t i = 0; i < m_;) {
      if (!IsQuote(i)) {
        ++i;
        continue;
      }
      size_t k = i + 1;
      while (k < m_ && IsQuote(k) && !Space(k)) ++k;
      for (size_t t = i; t + 2 <= k; t += 2) Pad(t, 2);
      i = k;
    }
  }

  // E3 " becomes '' , padded.
  void PadDoubleQuotes() {
    for (size_t i = 0; i < m_; ++i) {
      if (w_[i] == '"' && (f_[i] & kOpen) == 0) Pad(i, 1);
    }
  }

  // E4 ([^' ])('[sS]|'[mM]|'[dD]|')  and E5 ([^' ])('ll|'LL|'re|'RE|'ve|
  // 'VE|n't|N'T)  split a clitic from its word when a space follows it.
  // In "wannan't'll" E5 splits only 'll: n't was followed by a quote when
  // the pass began.
  void SplitClitics() {
    for (size_t i = 1; i < m_; ++i) {
      if (!IsQuote(i) || !NoQuoteOrSpaceBefore(i)) continue;
      const char next = i + 1 < m_ ? w_[i + 1] : '\0';
      const bool one_letter = next == 's' || next == 'S' || next == 'm' ||
                              next == 'M' || next == 'd' || next == 'D';
      if ((one_letter && !Space(i + 1) && SpaceAtForEnding(i + 2)) ||
          SpaceAtForEnding(i + 1)) {
        f_[i] |= kPending;  // E4
      }
    }
    Commit();
    for (size_t i = 1; i + 1 < m_; ++i) {
      if (!IsQuote(i) || Space(i) || Space(i + 1)) continue;
      const std::string_view two = w_.substr(i + 1, 2);
      const bool clitic = two == "ll" || two == "LL" || two == "re" ||
                          two == "RE" || two == "ve" || two == "VE";
      if (clitic && i + 2 < m_ && !Space(i + 2) && SpaceAtForEnding(i + 3) &&
          NoQuoteOrSpaceBefore(i)) {
        f_[i] |= kPending;  // 'll 're 've
      }
      const std::string_view nt = w_.substr(i - 1, 3);
      if ((nt == "n't" || nt == "N'T") && SpaceAtForEnding(i + 2) &&
          NoQuoteOrSpaceBefore(i - 1)) {
        f_[i - 1] |= kPending;  // n't
      }
    }
    Commit();
  }

  // The code points of a run of word characters, compared with an ASCII
  // word under IGNORECASE; on success *cut is the byte offset of `split`'s
  // code point.
  bool RunEquals(size_t a, size_t b, std::string_view word, size_t split,
                 size_t* cut) const {
    size_t i = a;
    for (size_t k = 0; k < word.size(); ++k) {
      if (i >= b) return false;
      if (k == split) *cut = i;
      size_t length = 0;
      if (!FoldEquals(DecodeAt(w_, i, &length), word[k])) return false;
      i += length;
    }
    return i == b;
  }

  // An unconverted quote at i (right after a word), then the ASCII letters
  // `tail` (any case) adjacent to it, then \b. Returns the end, or kNone.
  size_t QuoteTailEnd(size_t i, std::string_view tail) const {
    if (i >= m_ || !IsQuote(i) || Space(i)) return kNone;
    size_t k = i + 1;
    for (char letter : tail) {
      if (k >= m_ || Space(k) || !FoldEquals(DecodeAt(w_, k), letter)) {
        return kNone;
      }
      ++k;
    }
    return BoundaryAt(k) ? k : kNone;
  }

  // C2 (?i)\b(can)(not)\b, \b(d)('ye)\b, \b(gim)(me)\b, \b(gon)(na)\b,
  // \b(got)(ta)\b, \b(lem)(me)\b, \b(more)('n)\b, \b(wan)(na)(?=\s) become
  // " \1 \2 ". Each is a whole run of word characters (or a one-letter and
  // a four-letter run before a quote), so the eight passes cannot affect
  // one another and run as one.
  void SplitContractions() {
    for (size_t i = 0; i < m_;) {
      size_t length = 0;
      if (!IsWord(DecodeAt(w_, i, &length))) {
        i += length;
        continue;
      }
      const size_t a = i;
      size_t count = 0;
      do {
        ++count;
        i += length;
      } while (i < m_ && !Space(i) && IsWord(DecodeAt(w_, i, &length)));
      const size_t b = i;
      size_t cut = kNone;
      size_t end = b;
      bool match = false;
      if (count == 6) {
        match = RunEquals(a, b, "cannot", 3, &cut);
      } else if (count == 5) {
        for (std::string_view word : {"gimme", "gonna", "gotta", "lemme"}) {
          match = match || RunEquals(a, b, word, 3, &cut);
        }
        if (!match && (b == m_ || Space(b))) {
          match = RunEquals(a, b, "wanna", 3, &cut);
        }
      } else if (count == 1 && FoldEquals(DecodeAt(w_, a), 'd')) {
        end = QuoteTailEnd(b, "ye");
        match = end != kNone;
        cut = b;
      } else if (count == 4 && RunEquals(a, b, "more", 4, &cut)) {
        end = QuoteTailEnd(b, "n");
        match = end != kNone;
        cut = b;
      }
      if (match) {
        f_[a] |= kSpace;
        f_[cut] |= kSpace;
        f_[end] |= kSpace;
      }
    }
  }

  // C3 (?i) ('t)(is)\b and (?i) ('t)(was)\b become " \1 \2 ", one pass
  // each. The match takes the space before the quote, so in "'tis'tis"
  // only the first splits.
  void SplitTis() {
    for (std::string_view word : {"is", "was"}) {
      for (size_t i = 0; i + 3 < m_; ++i) {
        if (!IsQuote(i)) continue;
        const bool space_before = i == 0 ? c_.space_before_padded : Space(i);
        if (!space_before || (w_[i + 1] != 't' && w_[i + 1] != 'T') ||
            Space(i + 1)) {
          continue;
        }
        size_t k = i + 2;
        bool equal = true;
        for (char letter : word) {
          size_t length = 0;
          if (k >= m_ || Space(k) ||
              !FoldEquals(DecodeAt(w_, k, &length), letter)) {
            equal = false;
            break;
          }
          k += length;
        }
        if (equal && BoundaryAt(k)) {
          f_[i] |= kPending;
          f_[i + 2] |= kPending;
          f_[k] |= kPending;
        }
      }
      Commit();
    }
  }

  std::string_view w_;
  size_t m_;
  const ChunkContext& c_;
  uint8_t* f_;
};

// A chunk can hold one of C2's five- and six-letter words (gonna,
// cannot...) as a run of word characters; false when it surely does not.
// Runs are taken over ASCII word bytes, with any other byte ending one: that
// finds every such word of ASCII letters (and some that a non-ASCII letter
// next to it would lengthen, which only costs time). The non-ASCII letters
// that IGNORECASE matches with i and s (ı İ ſ) always answer true.
bool MayHoldContraction(std::string_view w) {
  if (w.size() < 5) return false;
  size_t run = 0;
  for (size_t i = 0; i <= w.size(); ++i) {
    const auto b = i < w.size() ? static_cast<unsigned char>(w[i]) : 0;
    if (b < 0x80 && IsWord(b)) {
      ++run;
      continue;
    }
    if (run == 5 || run == 6) {
      const char first = static_cast<char>(w[i - run] | 0x20);
      if (first == 'c' || first == 'g' || first == 'l' || first == 'w') {
        return true;
      }
    }
    run = 0;
    if ((b == 0xC4 || b == 0xC5) && i + 1 < w.size()) {
      const auto c = static_cast<unsigned char>(w[i + 1]);
      if ((b == 0xC4 && (c == 0xB0 || c == 0xB1)) || (b == 0xC5 && c == 0xBF)) {
        return true;
      }
    }
  }
  return false;
}

// True when `w` (at least 4 bytes) is all ASCII: whole-word loads, the
// last one overlapping.
bool IsAscii(std::string_view w) {
  uint64_t bits = 0;
  if (w.size() >= 8) {
    for (size_t i = 0; i + 8 <= w.size(); i += 8) {
      uint64_t v = 0;
      std::memcpy(&v, w.data() + i, 8);
      bits |= v;
    }
    uint64_t v = 0;
    std::memcpy(&v, w.data() + w.size() - 8, 8);
    bits |= v;
  } else {
    uint32_t head = 0;
    uint32_t tail = 0;
    std::memcpy(&head, w.data(), 4);
    std::memcpy(&tail, w.data() + w.size() - 4, 4);
    bits = head | tail;
  }
  return (bits & 0x8080808080808080) == 0;
}

// MayHoldContraction for a chunk without trigger bytes, where only a
// non-ASCII character (two bytes or more) can end a run of word characters
// inside it. In five or six bytes the run is then the whole chunk, and it
// starts with an ASCII c, g, l or w; a longer all-ASCII chunk is one run too
// long to be a C2 word.
bool PlainMayHoldContraction(std::string_view w) {
  if (w.size() < 5) return false;
  if (w.size() <= 6) {
    const char first = static_cast<char>(w[0] | 0x20);
    return first == 'c' || first == 'g' || first == 'l' || first == 'w';
  }
  return !IsAscii(w) && MayHoldContraction(w);
}

// True when the chunk holds one of « “ ‘ „ » ” ’ (SQ1, E1, P1's closers).
bool HasCurlyQuote(std::string_view w) {
  for (size_t i = 0; i + 1 < w.size(); ++i) {
    const auto b = static_cast<unsigned char>(w[i]);
    const auto c = static_cast<unsigned char>(w[i + 1]);
    if (b == 0xC2 && (c == 0xAB || c == 0xBB)) return true;
    if (b == 0xE2 && c == 0x80 && i + 2 < w.size()) {
      const auto d = static_cast<unsigned char>(w[i + 2]);
      if (d == 0x98 || d == 0x99 || (d >= 0x9C && d <= 0x9E)) return true;
    }
  }
  return false;
}

// True when no rule changes the chunk: its only triggers are single
// periods that are not P1's, single hyphens, commas or colons before a
// digit, and non-ASCII characters other than the curly quotes, and it holds
// no C2 word. `has` is its trigger bits.
bool IsUnchanged(std::string_view w, uint16_t has) {
  constexpr uint16_t kHarmless =
      kHasOther | kHasPeriod | kHasDash | kHasCommaColon | kHasNonAscii;
  if ((has & ~kHarmless) != 0) return false;
  if ((has & kHasNonAscii) && HasCurlyQuote(w)) return false;
  if ((has & kHasPeriod) && w.find("..") != std::string_view::npos) {
    return false;
  }
  if ((has & kHasDash) && w.find("--") != std::string_view::npos) {
    return false;
  }
  if (has & kHasCommaColon) {
    for (size_t i = 0; i < w.size(); ++i) {
      if ((w[i] == ',' || w[i] == ':') &&
          (i + 1 == w.size() || w[i + 1] < '0' || w[i + 1] > '9')) {
        return false;
      }
    }
  }
  return (has & ~kHasNonAscii) == 0 ? !PlainMayHoldContraction(w)
                                    : !MayHoldContraction(w);
}

// The common chunks that hold one trigger character at an edge of letters
// and digits: "word," "(word" "word?" "word." Emits their tokens
// and returns true, or returns false for the general path. `edge` is the
// trigger's offset in the chunk.
bool EmitSimpleChunk(std::string_view w, uint16_t has, size_t edge,
                     bool final_period, std::vector<std::string_view>* out) {
  const bool at_end = edge + 1 == w.size();
  if (edge != 0 && !at_end) return false;
  const std::string_view rest = at_end ? w.substr(0, edge) : w.substr(1);
  if (MayHoldContraction(rest)) return false;
  bool split = false;
  switch (has) {
    case kHasPeriod:  // P1 splits the sentence's final period, if this is it
      split = final_period;
      break;
    case kHasCommaColon:  // P2/P3; at the start it depends on a digit
      if (!at_end) return false;
      split = true;
      break;
    case kHasSymbol:  // P5, P7, P9, PB pad on both sides
    case kHasQuestion:
    case kHasStar:
    case kHasBracket:
      split = true;
      break;
    default:
      return false;
  }
  if (!split || rest.empty()) {
    out->push_back(w);
  } else if (at_end) {
    out->push_back(rest);
    out->push_back(w.substr(edge));
  } else {
    out->push_back(w.substr(0, 1));
    out->push_back(rest);
  }
  return true;
}

// Scratch space for chunk flags, reused across calls on this thread.
uint8_t* FlagsFor(size_t size) {
  thread_local std::vector<uint8_t> flags;
  if (flags.size() < size) flags.resize(std::max(size, flags.size() * 2));
  std::memset(flags.data(), 0, size);
  return flags.data();
}

}  // namespace

void TreebankWords(std::string_view s, std::vector<std::string_view>* out) {
  const size_t n = s.size();
  const size_t final_period = FinalPeriod(s);
  // The length of the whitespace at i, or 0.
  auto space_at = [&](size_t i) -> size_t {
    const uint16_t t = Trigger(s[i]);
    if (t & kAsciiSpace) return 1;
    return (t & kMaybeSpace) ? SpaceLengthAt(s, i) : 0;
  };
  size_t i = 0;
  while (true) {
    while (i < n) {
      const size_t space = space_at(i);
      if (space == 0) break;
      i += space;
    }
    if (i == n) return;
    // The chunk [a, b) and the triggers in it.
    const size_t a = i;
    uint16_t has = 0;
    size_t triggers = 0;
    size_t last_trigger = 0;
    for (; (i = SkipPlain(s, i)) < n; ++i) {
      const uint16_t t = Trigger(s[i]);
      if ((t & kAsciiSpace) || ((t & kMaybeSpace) && SpaceLengthAt(s, i))) {
        break;
      }
      const uint16_t trigger = t & static_cast<uint16_t>(~kMaybeSpace);
      if (trigger == 0) continue;
      has |= trigger;
      ++triggers;
      last_trigger = i;
    }
    const size_t b = i;
    const std::string_view w = s.substr(a, b - a);
    const bool has_period = final_period >= a && final_period < b;
    if (!has_period && IsUnchanged(w, has)) {
      out->push_back(w);
      continue;
    }
    if (triggers == 1 &&
        EmitSimpleChunk(w, has, last_trigger - a, has_period, out)) {
      continue;
    }
    size_t next = b;
    while (next < n) {
      const size_t space = space_at(next);
      if (space == 0) break;
      next += space;
    }
    ChunkContext context;
    context.sentence_start = a == 0;
    context.space_before = a > 0 && s[a - 1] == ' ';
    context.space_before_padded = a == 0 || s[a - 1] == ' ';
    const bool space_follows = b < n && s[b] == ' ';
    const bool p1_trailing_space = next == n && final_period != kNone;
    context.space_after_p8 = space_follows || p1_trailing_space;
    context.space_after_padded = space_follows || p1_trailing_space || b == n;
    if (has_period) context.final_period = final_period - a;
    Chunk chunk(w, context, FlagsFor(w.size() + 1));
    chunk.Run(has);
    chunk.Emit(out);
  }
}

}  // namespace needle::words::internal
