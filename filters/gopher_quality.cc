#include "filters/gopher_quality.h"

#include <algorithm>
#include <array>

#include "filters/python_text.h"
#include "filters/words.h"

namespace needle {
namespace {

namespace py = python_text;

constexpr std::string_view kEllipsis = "...";
constexpr std::string_view kEllipsisChar = "\u2026";  // …
constexpr std::string_view kBullet = "\u2022";        // •

// One thread's buffers, reused from document to document so that a batch
// allocates nothing once a thread has seen its longest document.
struct Scratch {
  std::vector<char> stop_word_seen;
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

bool HasLetter(std::string_view token) {
  for (size_t pos = 0; pos < token.size();) {
    const auto byte = static_cast<unsigned char>(token[pos]);
    // In ASCII, str.isalpha() is A-Z and a-z: no decoding, no table.
    if (byte < 0x80) {
      if ((byte | 0x20) >= 'a' && (byte | 0x20) <= 'z') return true;
      ++pos;
      continue;
    }
    if (py::IsAlpha(py::DecodeAt(token, &pos))) return true;
  }
  return false;
}

// Bits of AsciiTraits().
enum : uint8_t {
  kPunctuationBit = 1,  // in words::IsPunctuation's set
  kLetterBit = 2,       // str.isalpha()
};

// What the word rules ask of each ASCII character.
using AsciiTable = std::array<uint8_t, 128>;

const AsciiTable& AsciiTraits() {
  static const AsciiTable table = [] {
    AsciiTable bits{};
    for (char32_t c = 0; c < 128; ++c) {
      bits[c] = (words::IsPunctuation(c) ? kPunctuationBit : 0) |
                (py::IsAlpha(c) ? kLetterBit : 0);
    }
    return bits;
  }();
  return table;
}

// What the word rules ask of one token.
struct TokenTraits {
  bool all_punctuation;
  bool has_letter;
  int64_t chars;
  uint64_t packed;  // Pack(token) for tokens of up to 8 bytes, else 0
};

// A word of up to 8 bytes as one integer: for words of the same size, equal
// packs mean equal words.
uint64_t Pack(std::string_view word) {
  uint64_t packed = 0;
  for (size_t k = 0; k < word.size(); ++k) {
    packed |= uint64_t{static_cast<unsigned char>(word[k])} << (8 * k);
  }
  return packed;
}

// `ascii` is AsciiTraits().
TokenTraits TraitsOf(std::string_view token, const AsciiTable& ascii) {
  // Most tokens are ASCII: one pass over their bytes, with a table, that
  // packs them too.
  uint8_t all = kPunctuationBit;
  uint8_t any = 0;
  uint64_t packed = 0;
  for (size_t k = 0; k < token.size(); ++k) {
    const auto byte = static_cast<unsigned char>(token[k]);
    if (byte >= 0x80) {
      return {words::IsAllPunctuation(token), HasLetter(token),
              py::Length(token), token.size() <= 8 ? Pack(token) : 0};
    }
    all &= ascii[byte];
    any |= ascii[byte];
    packed |= k < 8 ? uint64_t{byte} << (8 * k) : 0;
  }
  return {!token.empty() && all != 0, (any & kLetterBit) != 0,
          static_cast<int64_t>(token.size()), token.size() <= 8 ? packed : 0};
}

double Ratio(int64_t part, int64_t whole) {
  return whole == 0 ? 0.0
                    : static_cast<double>(part) / static_cast<double>(whole);
}

}  // namespace

GopherQuality::GopherQuality(const Options& options) : options_(options) {
  // datatrove keeps the stop words in a set: a repeated one counts once.
  auto& stop_words = options_.stop_words;
  std::sort(stop_words.begin(), stop_words.end());
  stop_words.erase(std::unique(stop_words.begin(), stop_words.end()),
                   stop_words.end());
  if (!stop_words.empty()) {
    const auto [shortest, longest] =
        std::minmax_element(stop_words.begin(), stop_words.end(),
                            [](const std::string& a, const std::string& b) {
                              return a.size() < b.size();
                            });
    min_stop_word_bytes_ = shortest->size();
    max_stop_word_bytes_ = longest->size();
  }
  for (const std::string& word : stop_words) {
    packed_stop_words_.push_back(
        {word.size(), word.size() <= 8 ? Pack(word) : 0});
  }
}

GopherQuality::Measures GopherQuality::Measure(
    std::string_view text, std::span<const std::string_view> tokens,
    std::span<const std::string_view> lines) const {
  Scratch& scratch = ThreadScratch();
  Measures m;

  m.tokens = static_cast<int64_t>(tokens.size());

  const auto& stop_words = options_.stop_words;
  scratch.stop_word_seen.assign(stop_words.size(), 0);
  int64_t word_chars = 0;
  int64_t alpha_tokens = 0;
  const AsciiTable& ascii = AsciiTraits();
  for (const std::string_view token : tokens) {
    const TokenTraits traits = TraitsOf(token, ascii);
    if (!traits.all_punctuation) {
      ++m.words;
      word_chars += traits.chars;
    }
    alpha_tokens += traits.has_letter;
    // A handful of stop words: a length check and a short scan beat hashing
    // every token.
    if (token.size() < min_stop_word_bytes_ ||
        token.size() > max_stop_word_bytes_) {
      continue;
    }
    for (size_t i = 0; i < packed_stop_words_.size(); ++i) {
      const PackedWord& stop = packed_stop_words_[i];
      if (stop.size == token.size() &&
          (token.size() <= 8 ? stop.packed == traits.packed
                             : token == stop_words[i])) {
        scratch.stop_word_seen[i] = 1;
      }
    }
  }
  m.stop_words = std::count(scratch.stop_word_seen.begin(),
                            scratch.stop_word_seen.end(), 1);
  m.mean_word_length = Ratio(word_chars, m.words);
  m.alpha_words_ratio = Ratio(alpha_tokens, m.tokens);
  // The counts are over the whole text, as str.count() counts them.
  m.hash_ratio = Ratio(py::Count(text, "#"), m.tokens);
  m.ellipsis_ratio = Ratio(
      py::Count(text, kEllipsis) + py::Count(text, kEllipsisChar), m.tokens);

  int64_t bullet_lines = 0;
  int64_t ellipsis_lines = 0;
  for (const std::string_view line : lines) {
    const std::string_view head = py::LStrip(line);
    bullet_lines += head.starts_with('-') || head.starts_with(kBullet);
    const std::string_view body = py::RStrip(line);
    ellipsis_lines +=
        body.ends_with(kEllipsis) || body.ends_with(kEllipsisChar);
  }
  const auto line_count = static_cast<int64_t>(lines.size());
  m.bullet_lines_ratio = Ratio(bullet_lines, line_count);
  m.ellipsis_lines_ratio = Ratio(ellipsis_lines, line_count);
  return m;
}

Reason GopherQuality::Verdict(const Measures& m) const {
  const Options& o = options_;
  // Each rule is off when its threshold is 0, as in datatrove.
  if (o.min_doc_words != 0 && m.words < o.min_doc_words) {
    return Reason::kGopherTooFewWords;
  }
  if (o.max_doc_words != 0 && m.words > o.max_doc_words) {
    return Reason::kGopherTooManyWords;
  }
  // With no words datatrove's mean is NaN, which fails no comparison.
  if (m.words != 0) {
    if (o.min_avg_word_length != 0 &&
        m.mean_word_length < o.min_avg_word_length) {
      return Reason::kGopherShortWords;
    }
    if (o.max_avg_word_length != 0 &&
        m.mean_word_length > o.max_avg_word_length) {
      return Reason::kGopherLongWords;
    }
  }
  if (o.max_symbol_word_ratio != 0) {
    if (m.hash_ratio > o.max_symbol_word_ratio) return Reason::kGopherHashRatio;
    if (m.ellipsis_ratio > o.max_symbol_word_ratio) {
      return Reason::kGopherEllipsisRatio;
    }
  }
  if (o.max_bullet_lines_ratio != 0 &&
      m.bullet_lines_ratio > o.max_bullet_lines_ratio) {
    return Reason::kGopherBulletLines;
  }
  if (o.max_ellipsis_lines_ratio != 0 &&
      m.ellipsis_lines_ratio > o.max_ellipsis_lines_ratio) {
    return Reason::kGopherEllipsisLines;
  }
  // Without tokens datatrove divides by zero; here the rule has nothing to
  // judge and passes.
  if (o.min_alpha_words_ratio != 0 && m.tokens != 0 &&
      m.alpha_words_ratio < o.min_alpha_words_ratio) {
    return Reason::kGopherFewAlphaWords;
  }
  if (o.min_stop_words != 0 && m.stop_words < o.min_stop_words) {
    return Reason::kGopherFewStopWords;
  }
  return Reason::kOk;
}

void GopherQuality::Process(std::span<Document> docs) const {
  for (Document& doc : docs) {
    if (!doc.ok() || words::SkipsLanguage(doc, options_.skip_languages)) {
      continue;
    }
    const Measures m =
        Measure(doc.text, words::WordsOf(doc), words::LinesOf(doc));
    doc.signals.push_back({"gopher.word_count", m.words});
    doc.signals.push_back({"gopher.tokens", m.tokens});
    doc.signals.push_back({"gopher.mean_word_length", m.mean_word_length});
    doc.signals.push_back({"gopher.hash_ratio", m.hash_ratio});
    doc.signals.push_back({"gopher.ellipsis_ratio", m.ellipsis_ratio});
    doc.signals.push_back({"gopher.bullet_lines_ratio", m.bullet_lines_ratio});
    doc.signals.push_back(
        {"gopher.ellipsis_lines_ratio", m.ellipsis_lines_ratio});
    doc.signals.push_back({"gopher.alpha_words_ratio", m.alpha_words_ratio});
    doc.signals.push_back({"gopher.stop_words", m.stop_words});
    const Reason reason = Verdict(m);
    if (reason != Reason::kOk) Reject(doc, reason);
  }
}

}  // namespace needle
