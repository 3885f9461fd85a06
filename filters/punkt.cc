#include "filters/punkt.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

#include "filters/python_chars.h"

// Names in comments (_match_potential_end_contexts, _slices_from_text...)
// are the methods of NLTK's PunktSentenceTokenizer that each part follows.

namespace needle::words::internal {

using python_chars::DecodeAt;
using python_chars::IsDigit;
using python_chars::IsLower;
using python_chars::IsSpace;
using python_chars::IsUpper;
using python_chars::IsWord;
using python_chars::PreviousStart;
using python_chars::SpaceLengthAt;
namespace {

constexpr size_t kNone = static_cast<size_t>(-1);

// string.whitespace, the only whitespace _get_last_whitespace_index knows.
bool IsAsciiWhitespace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

enum : uint8_t {
  kNonWord = 1,        // _re_non_word_chars: (?:[)\";}\]\*:@\'\({\[!?])
  kNoWordStart = 2,    // what _re_word_start keeps from starting a word
  kRealignCloser = 4,  // re_boundary_realignment's ["\')\]}]
  // Where a word token may end: whitespace (or a byte of a non-ASCII
  // code point), a non-word character, '.', '-' or ','.
  kMayEndWord = 8,
};

constexpr std::array<uint8_t, 256> MakeCharTable() {
  std::array<uint8_t, 256> t{};
  for (char c : std::string_view(")\";}]*:@'({[!?")) {
    t[static_cast<unsigned char>(c)] |= kNonWord;
  }
  for (char c : std::string_view("(\"`{[:;&#*@)}]-,")) {
    t[static_cast<unsigned char>(c)] |= kNoWordStart;
  }
  for (char c : std::string_view("\"')]}")) {
    t[static_cast<unsigned char>(c)] |= kRealignCloser;
  }
  for (int b = 0; b < 256; ++b) {
    const bool space = (b >= 0x09 && b <= 0x0D) || (b >= 0x1C && b <= 0x20);
    if (space || b >= 0x80 || (t[b] & kNonWord) || b == '.' || b == '-' ||
        b == ',') {
      t[b] |= kMayEndWord;
    }
  }
  return t;
}

constexpr std::array<uint8_t, 256> kCharTable = MakeCharTable();

bool Is(char c, uint8_t bit) {
  return (kCharTable[static_cast<unsigned char>(c)] & bit) != 0;
}
bool IsNonWordChar(char c) { return Is(c, kNonWord); }

// The first '.', '?' or '!' at or after i, or the end: eight bytes at a
// time (a byte equal to c zeroes in x ^ c; the lowest flagged byte of the
// classic has-zero-byte test is always a true zero).
size_t FindSentenceEnd(std::string_view s, size_t i) {
  constexpr uint64_t kOnes = 0x0101010101010101;
  constexpr uint64_t kHighs = 0x8080808080808080;
  auto zero_bytes = [](uint64_t x) { return (x - kOnes) & ~x & kHighs; };
  if constexpr (std::endian::native == std::endian::little) {
    for (; i + 8 <= s.size(); i += 8) {
      uint64_t v = 0;
      std::memcpy(&v, s.data() + i, 8);
      const uint64_t hits = zero_bytes(v ^ (kOnes * '.')) |
                            zero_bytes(v ^ (kOnes * '?')) |
                            zero_bytes(v ^ (kOnes * '!'));
      if (hits != 0) return i + static_cast<size_t>(std::countr_zero(hits)) / 8;
    }
  }
  for (; i < s.size(); ++i) {
    if (s[i] == '.' || s[i] == '?' || s[i] == '!') return i;
  }
  return s.size();
}

size_t CodePointLength(std::string_view s, size_t i) {
  size_t length = 0;
  DecodeAt(s, i, &length);
  return length;
}

// PunktLanguageVars.word_tokenize: the regex
//   _re_multi_char_punct | (?=_re_word_start)\S+?(?=word end) | \S
// over each line of a (short) context. Lines end at '\n' only.
class PunktWords {
 public:
  explicit PunktWords(std::string_view s) : s_(s) {}

  bool Next(std::string_view* token) {
    while (pos_ < s_.size()) {
      const size_t space = SpaceLengthAt(s_, pos_);
      if (space == 0) break;
      pos_ += space;
    }
    if (pos_ == s_.size()) return false;
    const size_t p = pos_;
    size_t end = p + MultiCharLength(p);
    if (end == p) {
      end = p + CodePointLength(s_, p);
      if (!Is(s_[p], kNoWordStart)) {
        while (!WordEndsAt(end)) end += CodePointLength(s_, end);
      }
    }
    pos_ = end;
    *token = s_.substr(p, end - p);
    return true;
  }

 private:
  // \s inside one line.
  size_t LineSpaceLengthAt(size_t q) const {
    return q < s_.size() && s_[q] != '\n' ? SpaceLengthAt(s_, q) : 0;
  }

  // _re_multi_char_punct, (?:\-{2,}|\.{2,}|(?:\.\s){2,}\.): the length of
  // its match at q, or 0.
  size_t MultiCharLength(size_t q) const {
    const size_t n = s_.size();
    if (q + 1 < n && (s_[q] == '-' || s_[q] == '.') && s_[q + 1] == s_[q]) {
      size_t k = q;
      while (k < n && s_[k] == s_[q]) ++k;
      return k - q;
    }
    // (?:\.\s){2,}\. takes as many ". " as it can, then gives one back if
    // no period follows the last.
    size_t reps = 0;
    size_t last_rep = q;
    size_t k = q;
    while (k < n && s_[k] == '.') {
      const size_t space = LineSpaceLengthAt(k + 1);
      if (space == 0) break;
      ++reps;
      last_rep = k;
      k += 1 + space;
    }
    if (reps >= 2 && k < n && s_[k] == '.') return k + 1 - q;
    if (reps >= 3) return last_rep + 1 - q;
    return 0;
  }

  bool EndsLineOrSpace(size_t q) const {
    return q == s_.size() || SpaceLengthAt(s_, q) != 0;
  }

  // The lookahead that ends a word token at q: whitespace, the end of the
  // line, a non-word character, multi-character punctuation, or a comma
  // followed by one of those.
  bool WordEndsAt(size_t q) const {
    if (q < s_.size() && !Is(s_[q], kMayEndWord)) return false;
    if (EndsLineOrSpace(q) || IsNonWordChar(s_[q]) || MultiCharLength(q)) {
      return true;
    }
    return s_[q] == ',' &&
           (EndsLineOrSpace(q + 1) || IsNonWordChar(s_[q + 1]) ||
            MultiCharLength(q + 1) != 0);
  }

  std::string_view s_;
  size_t pos_ = 0;
};

bool EqualsLowerAscii(std::string_view s, std::string_view lower) {
  return s.size() == lower.size() &&
         std::equal(s.begin(), s.end(), lower.begin(), [](char a, char b) {
           return (a >= 'A' && a <= 'Z' ? static_cast<char>(a + 32) : a) == b;
         });
}

// _first_pass_annotation's abbreviation test on the token without its
// final period: the whole, or its part after the last hyphen, lower-cased.
// The list is ASCII, and no non-ASCII character lower-cases to one of its
// letters, so an ASCII comparison is exact.
bool IsAbbreviation(std::string_view type) {
  const size_t hyphen = type.rfind('-');
  const std::string_view last =
      hyphen == std::string_view::npos ? type : type.substr(hyphen + 1);
  return std::any_of(
      kAbbreviations.begin(), kAbbreviations.end(), [&](std::string_view a) {
        return EqualsLowerAscii(type, a) || EqualsLowerAscii(last, a);
      });
}

// _first_pass_annotation: '.', '?' and '!' break; so does a word ending in
// one period, unless it is an abbreviation. Ellipses ("..") do not.
bool FirstPassBreaks(std::string_view t) {
  if (t == "." || t == "?" || t == "!") return true;
  if (t.size() < 2 || t.back() != '.' || t[t.size() - 2] == '.') return false;
  return !IsAbbreviation(t.substr(0, t.size() - 1));
}

// PunktToken.is_initial, [^\W\d]\.$: one letter (or "_") and a period.
bool IsInitial(std::string_view t) {
  if (t.size() < 2 || t.back() != '.') return false;
  size_t length = 0;
  const char32_t c = DecodeAt(t, 0, &length);
  return length + 1 == t.size() && IsWord(c) && !IsDigit(c);
}

// A type of "##number##": ^-?[\.,]?\d[\d,\.-]*\.?$ on the token.
bool IsNumber(std::string_view t) {
  size_t i = 0;
  if (i < t.size() && t[i] == '-') ++i;
  if (i < t.size() && (t[i] == '.' || t[i] == ',')) ++i;
  bool first = true;
  while (i < t.size()) {
    size_t length = 0;
    const char32_t c = DecodeAt(t, i, &length);
    const bool digit = IsDigit(c);
    if (first ? !digit : !(digit || c == ',' || c == '.' || c == '-')) {
      return false;
    }
    first = false;
    i += length;
  }
  return !first;
}

// _second_pass_annotation with empty parameters: the orthographic
// heuristic can only say "not a sentence starter" (the next token is
// ;:,.!? or starts lower-case) or "unknown". An initial or a number is then
// no break; an initial before an upper-case word neither.
bool SecondPassUnbreaks(std::string_view t1, std::string_view t2) {
  const bool initial = IsInitial(t1);
  if (!initial && !IsNumber(t1)) return false;
  if (t2.size() == 1 &&
      std::string_view(";:,.!?").find(t2[0]) != std::string_view::npos) {
    return true;
  }
  const char32_t first = DecodeAt(t2, 0);
  return IsLower(first) || (initial && IsUpper(first));
}

// text_contains_sentbreak: some token but the last is a sentence break.
bool ContainsSentbreak(std::string_view context) {
  PunktWords words(context);
  std::string_view previous;
  bool previous_breaks = false;
  bool have_previous = false;
  std::string_view token;
  while (words.Next(&token)) {
    if (have_previous && previous_breaks &&
        !(previous.back() == '.' && SecondPassUnbreaks(previous, token))) {
      return true;
    }
    previous = token;
    previous_breaks = FirstPassBreaks(token);
    have_previous = true;
  }
  return false;
}

// A match of period_context_re: [.?!] followed by a non-word character or
// by whitespace and a token.
struct Candidate {
  size_t pos = 0;           // the '.', '?' or '!'
  size_t after_end = 0;     // end of the after_tok group
  size_t next_tok = kNone;  // start of the next_tok group, if it matched
};

// True when text_contains_sentbreak surely holds for the context of `c`
// that starts at word_begin, without tokenizing it; false when unsure. A
// '?' or '!' is a token of its own, a break, and a token follows it. So is
// a word of two or more ASCII letters ending in '.', unless it is an
// abbreviation or the period starts spaced periods (". . .").
bool SurelyBreaks(std::string_view text, size_t word_begin,
                  const Candidate& c) {
  if (text[c.pos] != '.') return true;
  if (c.pos - word_begin < 2) return false;
  for (size_t k = word_begin; k < c.pos; ++k) {
    const char l = static_cast<char>(text[k] | 0x20);
    if (l < 'a' || l > 'z') return false;
  }
  if (c.next_tok != kNone && text[c.next_tok] == '.') return false;
  return !IsAbbreviation(text.substr(word_begin, c.pos - word_begin));
}

bool CandidateAt(std::string_view text, size_t i, Candidate* c) {
  const size_t n = text.size();
  c->pos = i;
  if (i + 1 < n && IsNonWordChar(text[i + 1])) {
    c->after_end = i + 2;
    c->next_tok = kNone;
    return true;
  }
  size_t k = i + 1;
  while (k < n) {
    const size_t space = SpaceLengthAt(text, k);
    if (space == 0) break;
    k += space;
  }
  if (k == i + 1 || k == n) return false;
  c->next_tok = k;
  // Continuation bytes are never spaces, so stepping bytewise is safe.
  while (k < n && SpaceLengthAt(text, k) == 0) ++k;
  c->after_end = k;
  return true;
}

// _realign_boundaries: closing punctuation that opens a sentence moves to
// the end of the previous one. Fed the slices of _slices_from_text in
// order; spans with start >= end are Python's empty slices.
class Realigner {
 public:
  Realigner(std::string_view text, std::vector<Span>* out)
      : text_(text), out_(out) {}

  void Add(Span next) {
    if (have_pending_) {
      const Span current{pending_.begin + realign_, pending_.end};
      size_t closers = 0;
      size_t matched = 0;
      if (MatchRealignment(next, &closers, &matched)) {
        out_->push_back({current.begin, next.begin + closers});
        realign_ = matched;
      } else {
        realign_ = 0;
        if (current.begin < current.end) out_->push_back(current);
      }
    }
    pending_ = next;
    have_pending_ = true;
  }

  void Finish() {
    if (!have_pending_) return;
    const Span current{pending_.begin + realign_, pending_.end};
    if (current.begin < current.end) out_->push_back(current);
  }

 private:
  // re_boundary_realignment, ["\')\]}]+?(?:\s+|(?=--)|$), matched at the
  // start of the slice: the run of closers, then whitespace, "--" or the
  // slice's end.
  bool MatchRealignment(Span s, size_t* closers, size_t* matched) const {
    size_t q = s.begin;
    while (q < s.end && Is(text_[q], kRealignCloser)) ++q;
    if (q == s.begin) return false;
    *closers = q - s.begin;
    size_t k = q;
    while (k < s.end) {
      const size_t space = SpaceLengthAt(text_, k);
      if (space == 0) break;
      k += space;
    }
    const bool dashes = q + 1 < s.end && text_[q] == '-' && text_[q + 1] == '-';
    if (k == q && q != s.end && !dashes) return false;
    *matched = k - s.begin;
    return true;
  }

  std::string_view text_;
  std::vector<Span>* out_;
  Span pending_{0, 0};
  bool have_pending_ = false;
  size_t realign_ = 0;
};

}  // namespace

void SentenceSpans(std::string_view text, std::vector<Span>* out) {
  const size_t n = text.size();
  Realigner realigner(text, out);
  size_t last_break = 0;
  // _slices_from_text, for each context that _match_potential_end_contexts
  // yields.
  auto decide = [&](const Candidate& c, size_t context_begin) {
    if (!SurelyBreaks(text, context_begin, c) &&
        !ContainsSentbreak(
            text.substr(context_begin, c.after_end - context_begin))) {
      return;
    }
    realigner.Add({last_break, c.pos + 1});
    last_break = c.next_tok != kNone ? c.next_tok : c.pos + 1;
  };
  // _match_potential_end_contexts: each candidate's context starts at the
  // word before it (after the last ASCII whitespace since the previous
  // candidate). A candidate is only decided once the next one shows that
  // it is not inside the same word ("acting!!!" decides only its last "!").
  Candidate previous;
  bool have_previous = false;
  size_t previous_begin = 0;
  size_t previous_end = 0;
  for (size_t i = FindSentenceEnd(text, 0); i < n;
       i = FindSentenceEnd(text, i + 1)) {
    Candidate candidate;
    if (!CandidateAt(text, i, &candidate)) continue;
    size_t word_begin = previous_begin;
    for (size_t j = i; j > previous_end; --j) {
      if (IsAsciiWhitespace(text[j - 1])) {
        // NLTK's _get_last_whitespace_index returns 0 both for "none" and
        // for "at index 0"; both keep the previous word's start.
        if (j - 1 != previous_end) word_begin = j;
        break;
      }
    }
    if (have_previous && previous_end <= word_begin) {
      decide(previous, previous_begin);
    }
    previous = candidate;
    previous_begin = word_begin;
    previous_end = i;
    have_previous = true;
  }
  if (have_previous) decide(previous, previous_begin);
  size_t end = n;
  while (end > 0) {
    const size_t p = PreviousStart(text, end);
    if (!IsSpace(DecodeAt(text, p))) break;
    end = p;
  }
  realigner.Add({last_break, end});
  realigner.Finish();
}

}  // namespace needle::words::internal
