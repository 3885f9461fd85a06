#include "filters/doc_length.h"

#include "pipeline/utf8.h"

namespace needle {

DocLength::Counts DocLength::Count(std::string_view text) {
  Counts counts;
  counts.chars = CountCodePoints(text);
  bool in_word = false;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    // ASCII whitespace separates words; like str.split() without Unicode
    // spaces, which are rare enough in crawl text not to pay for here.
    const bool space = c == ' ' || (c >= '\t' && c <= '\r');
    counts.words += !space && !in_word;
    in_word = !space;
    counts.lines += c == '\n';
  }
  if (!text.empty() && text.back() != '\n') ++counts.lines;
  return counts;
}

void DocLength::Process(std::span<Document> docs) const {
  for (Document& doc : docs) {
    if (!doc.ok()) continue;
    const Counts counts = Count(doc.text);
    doc.signals.push_back({"bytes", static_cast<int64_t>(doc.text.size())});
    doc.signals.push_back({"chars", counts.chars});
    doc.signals.push_back({"words", counts.words});
    doc.signals.push_back({"lines", counts.lines});
    const auto chars = static_cast<uint64_t>(counts.chars);
    if (chars < options_.min_chars) {
      Reject(doc, Reason::kTooShort);
    } else if (options_.max_chars != 0 && chars > options_.max_chars) {
      Reject(doc, Reason::kTooLong);
    }
  }
}

}  // namespace needle
