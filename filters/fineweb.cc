#include "filters/fineweb.h"

#include <algorithm>
#include <cstdint>
#include <functional>

#include "filters/python_text.h"
#include "filters/words.h"

namespace needle {
namespace {

// The distinct lines of one document: an open-addressing hash set that
// grows with the distinct lines (not all lines: a list of one repeated line
// stays small) and keeps its memory for the next document.
class LineSet {
 public:
  void Clear() {
    slots_.assign(kInitialSlots, Slot());
    size_ = 0;
  }
  // Inserts a non-empty `line`; false when an equal line was there already.
  bool Insert(std::string_view line) {
    const size_t hash = std::hash<std::string_view>()(line);
    Slot& slot = Find(hash, line);
    if (!slot.line.empty()) return false;
    slot = {hash, line};
    if (++size_ * 2 > slots_.size()) Grow();
    return true;
  }
  void Trim() {
    if (slots_.capacity() > kKeptSlots) {
      slots_.clear();
      slots_.shrink_to_fit();
    }
  }

 private:
  struct Slot {
    size_t hash = 0;
    std::string_view line;  // empty: a free slot
  };
  static constexpr size_t kInitialSlots = 256;
  static constexpr size_t kKeptSlots = size_t{1} << 16;

  Slot& Find(size_t hash, std::string_view line) {
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.line.empty() || (slot.hash == hash && slot.line == line)) {
        return slot;
      }
    }
  }
  void Grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    for (const Slot& slot : old) {
      if (!slot.line.empty()) Find(slot.hash, slot.line) = slot;
    }
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

// Buffers reused by every document a thread sees.
struct Scratch {
  LineSet seen;

  // Gives back the memory of an unusually large document.
  void Trim() { seen.Trim(); }
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

double Ratio(int64_t part, int64_t whole) {
  return whole == 0 ? 0.0
                    : static_cast<double>(part) / static_cast<double>(whole);
}

}  // namespace

bool FinewebQuality::EndsWithStopChar(std::string_view line) const {
  if (options_.stop_chars.empty()) {
    return words::IsTerminalPunctuation(words::LastCodePoint(line));
  }
  return std::any_of(
      options_.stop_chars.begin(), options_.stop_chars.end(),
      [&](const std::string& stop) { return line.ends_with(stop); });
}

void FinewebQuality::Process(std::span<Document> docs) const {
  Scratch& scratch = ThreadScratch();
  for (Document& doc : docs) {
    if (!doc.ok() || words::SkipsLanguage(doc, options_.skip_languages)) {
      continue;
    }
    const std::string_view text = doc.text;
    const auto newlines =
        static_cast<int64_t>(std::count(text.begin(), text.end(), '\n'));
    scratch.seen.Clear();

    int64_t lines = 0;
    int64_t punct_lines = 0;
    int64_t short_lines = 0;
    int64_t dup_chars = 0;
    int64_t chars = 0;  // code points other than "\n"
    for (size_t start = 0; start <= text.size();) {
      size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      const std::string_view line = text.substr(start, end - start);
      start = end + 1;
      const int64_t length = python_text::Length(line);
      chars += length;
      if (python_text::Strip(line).empty()) continue;
      ++lines;
      punct_lines += EndsWithStopChar(line);
      short_lines += length <= options_.short_line_length;
      if (!scratch.seen.Insert(line)) dup_chars += length;
    }
    const auto word_count = static_cast<int64_t>(words::WordsOf(doc).size());
    scratch.Trim();

    const double punct_ratio = Ratio(punct_lines, lines);
    const double short_ratio = Ratio(short_lines, lines);
    const double dup_ratio = Ratio(dup_chars, chars);
    const double list_ratio = Ratio(newlines, std::max<int64_t>(word_count, 1));
    doc.signals.push_back({"fineweb.lines", lines});
    doc.signals.push_back({"fineweb.line_punct_ratio", punct_ratio});
    doc.signals.push_back({"fineweb.short_line_ratio", short_ratio});
    doc.signals.push_back({"fineweb.char_dup_ratio", dup_ratio});
    doc.signals.push_back({"fineweb.list_ratio", list_ratio});

    const Options& o = options_;
    const bool punct_exempt = punct_ratio == 0 && o.line_punct_exclude_zero;
    if (lines == 0 || (punct_ratio < o.line_punct_thr && !punct_exempt)) {
      Reject(doc, Reason::kFinewebLinePunctRatio);
    } else if (short_ratio > o.short_line_thr) {
      Reject(doc, Reason::kFinewebShortLineRatio);
    } else if (dup_ratio > o.char_duplicates_ratio) {
      Reject(doc, Reason::kFinewebCharDupRatio);
    } else if (list_ratio > o.new_line_ratio) {
      Reject(doc, Reason::kFinewebListRatio);
    }
  }
}

}  // namespace needle
