#include "filters/gopher_quality.h"

#include <algorithm>

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
  std::vector<std::string_view> lines;
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
}

GopherQuality::Measures GopherQuality::Measure(
    std::string_view text, std::span<const std::string_view> tokens) const {
  Scratch& scratch = ThreadScratch();
  Measures m;

  m.tokens = static_cast<int64_t>(tokens.size());

  const auto& stop_words = options_.stop_words;
  scratch.stop_word_seen.assign(stop_words.size(), 0);
  int64_t word_chars = 0;
  int64_t alpha_tokens = 0;
  for (const std::string_view token : tokens) {
    if (!words::IsAllPunctuation(token)) {
      ++m.words;
      word_chars += py::Length(token);
    }
    alpha_tokens += HasLetter(token);
    // A handful of stop words: a length check and a short scan beat hashing
    // every token.
    if (token.size() < min_stop_word_bytes_ ||
        token.size() > max_stop_word_bytes_) {
      continue;
    }
    for (size_t i = 0; i < stop_words.size(); ++i) {
      if (token == stop_words[i]) scratch.stop_word_seen[i] = 1;
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

  auto& lines = scratch.lines;
  lines.clear();
  py::SplitLines(text, &lines);
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
    const Measures m = Measure(doc.text, words::WordsOf(doc));
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
