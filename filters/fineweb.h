#pragma once
// FineWeb's own quality rules (Penedo et al. 2024, section 3.3), as
// datatrove's FineWebQualityFilter applies them
// (filters/fineweb_quality_filter.py), with its defaults.
//
// Lines are the text split on "\n" (not stripped, so a "\r" stays on the
// line), without those that are empty or whitespace only. Records, on every
// document it looks at:
//   fineweb.lines             non-blank lines
//   fineweb.line_punct_ratio  share of lines ending in a stop character
//                             (datatrove's TERMINAL_PUNCTUATION by default)
//   fineweb.short_line_ratio  share of lines of at most short_line_length
//                             code points
//   fineweb.char_dup_ratio    code points in lines that repeat an earlier
//                             line, over the code points of the text
//                             without its "\n"s
//   fineweb.list_ratio        "\n" count over NLTK word tokens (punctuation
//                             tokens included)
// then rejects for the first rule that fails, in datatrove's order:
// fineweb_line_punct_ratio (ratio < line_punct_thr, unless it is 0 and
// line_punct_exclude_zero), fineweb_short_line_ratio (> short_line_thr),
// fineweb_char_dup_ratio (> char_duplicates_ratio), fineweb_list_ratio
// (> new_line_ratio). Documents whose "lang" signal is in skip_languages
// pass unmeasured.
//
// Deliberate differences from datatrove:
// - A text with no non-blank line (whitespace only) is rejected as
//   fineweb_line_punct_ratio, its ratios all 0; datatrove's reason is
//   "empty", for which Needle has no reason of its own.
// - With no word token at all the list ratio divides by 1, where datatrove
//   would raise ZeroDivisionError.
//
// Stateless after construction; per-thread scratch buffers keep Process()
// free of allocations per line.

#include <string>
#include <string_view>
#include <vector>

#include "pipeline/config.h"
#include "stages/stage.h"

namespace needle {

class FinewebQuality final : public Stage {
 public:
  struct Options {  // TOML [fineweb]; datatrove's names and defaults
    double line_punct_thr = 0.12;
    bool line_punct_exclude_zero = false;
    std::vector<std::string> stop_chars;  // empty: TERMINAL_PUNCTUATION
    double short_line_thr = 0.67;
    int short_line_length = 30;  // code points
    double char_duplicates_ratio = 0.01;
    double new_line_ratio = 0.3;
    std::vector<std::string> skip_languages = {"zh", "ja", "th", "ko",
                                               "my", "lo", "km", "bo"};

    void Visit(ConfigSection& s) {
      s.Field("line_punct_thr", &line_punct_thr,
              "Reject documents where a smaller share of non-blank lines "
              "ends in a stop character (fineweb_line_punct_ratio).",
              0.0, 1.0);
      s.Field("line_punct_exclude_zero", &line_punct_exclude_zero,
              "Keep documents where no line at all ends in a stop character "
              "(the rule then only catches a few such lines among many).");
      s.Field("stop_chars", &stop_chars,
              "Line endings that count as punctuation, e.g. [\".\", \"!\"]; "
              "empty means datatrove's TERMINAL_PUNCTUATION (. ! ? and "
              "their equivalents in other scripts).");
      s.Field("short_line_thr", &short_line_thr,
              "Reject documents where a larger share of non-blank lines is "
              "short (fineweb_short_line_ratio).",
              0.0, 1.0);
      s.Field("short_line_length", &short_line_length,
              "A line of at most this many characters is short.", 0);
      s.Field("char_duplicates_ratio", &char_duplicates_ratio,
              "Reject documents where a larger share of characters is in "
              "lines that repeat an earlier line (fineweb_char_dup_ratio).",
              0.0, 1.0);
      s.Field("new_line_ratio", &new_line_ratio,
              "Reject documents with more newlines per word token "
              "(fineweb_list_ratio).",
              0.0);
      s.Field("skip_languages", &skip_languages,
              "Documents whose lang signal is one of these pass unmeasured "
              "(scripts without spaces between words).");
    }
  };

  explicit FinewebQuality(const Options& options) : options_(options) {}
  std::string_view name() const override { return "fineweb"; }
  void Process(std::span<Document> docs) const override;

 private:
  bool EndsWithStopChar(std::string_view line) const;

  Options options_;
};

}  // namespace needle
