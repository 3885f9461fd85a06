#pragma once
// Gopher's repetition rules (Rae et al. 2021, appendix A.1.1, table A1), as
// datatrove's GopherRepetitionFilter defines them, with its default
// thresholds. Every fraction is of len(text), the document's code points:
//
//   gopher_rep.dup_para_frac       paragraphs seen before / paragraphs
//   gopher_rep.dup_para_char_frac  their characters
//   gopher_rep.dup_line_frac       lines seen before / lines
//   gopher_rep.dup_line_char_frac  their characters
//   gopher_rep.top_{2,3,4}gram_frac  the most frequent n-gram of words,
//       joined by spaces, times its count (ties: the n-gram seen first)
//   gopher_rep.dup_{5..10}gram_frac  characters of n-grams seen before, the
//       words joined without spaces, walking left to right: after a repeat
//       the walk jumps n words ahead, and the n-grams it jumps over are
//       neither counted nor remembered (datatrove's find_all_duplicate)
//
// Paragraphs are the stripped text split at runs of two or more '\n'
// (re.split(r"\n{2,}", text.strip())), lines the unstripped text split at
// runs of '\n' (so a leading or trailing '\n' makes an empty line); both
// compare exactly. Words are words::SplitWords tokens; n-grams are keyed by
// their text too, so two different splits with the same concatenation are
// the same 5-gram, as in datatrove. The top n-gram's text is keyed by its
// token sequence, which is the same thing for tokens without spaces (what a
// whitespace-splitting tokenizer gives).
//
// Unlike datatrove, which returns at the first failing rule, the stage first
// records every signal (so thresholds can be re-tuned from stored signals),
// then rejects with the first failing rule in datatrove's order (the
// reasons kGopherDupParaFrac ... kGopherDup10gram, in that order). A
// threshold of 0 turns its rule off: datatrove's `if self.x and ...` for the
// four paragraph and line rules; deliberately also for the n-gram rules,
// which datatrove cannot switch off one by one. An empty text (which the
// parser never lets through) has all fractions 0, where datatrove divides
// by zero.
//
// Documents whose "lang" signal is in skip_languages (scripts written without
// spaces between words) pass with no signals.
//
// Linear time: each word is hashed once, a top n-gram's hash combines its
// words' hashes, and lines, paragraphs and the duplicate rules' n-grams
// (keys of joined bytes) are hashed with xxh3, into one open-addressing
// table that compares keys exactly on a hash match (so no hash collision
// changes a value) and allocates nothing per key. Only n-grams that may
// repeat are looked up: top (n+1)-grams where the n-gram repeats, and
// duplicate-rule n-grams unless the 16 bytes that start them start no other
// word's joined text. The words come split once per document
// (words::WordsOf, shared with gopher_quality and fineweb). Each thread
// keeps its own table and buffers. Stateless after construction: Process()
// runs on many batches at once.

#include <array>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/config.h"
#include "stages/stage.h"

namespace needle {

class GopherRepetition final : public Stage {
 public:
  struct Options {  // TOML [gopher_repetition]
    double dup_para_frac = 0.3;
    double dup_para_char_frac = 0.2;
    double dup_line_frac = 0.3;
    double dup_line_char_frac = 0.2;
    double top_2gram_frac = 0.2;
    double top_3gram_frac = 0.18;
    double top_4gram_frac = 0.16;
    double dup_5gram_frac = 0.15;
    double dup_6gram_frac = 0.14;
    double dup_7gram_frac = 0.13;
    double dup_8gram_frac = 0.12;
    double dup_9gram_frac = 0.11;
    double dup_10gram_frac = 0.10;
    std::vector<std::string> skip_languages = {"zh", "ja", "th", "ko",
                                               "my", "lo", "km", "bo"};

    void Visit(ConfigSection& s) {
      s.Field("dup_para_frac", &dup_para_frac,
              "Reject documents in which a larger share of paragraphs repeats "
              "an earlier one (gopher_dup_para_frac); 0 turns the rule off.",
              0.0, 1.0);
      s.Field("dup_para_char_frac", &dup_para_char_frac,
              "Reject documents in which repeated paragraphs hold a larger "
              "share of the characters (gopher_dup_para_char_frac); 0 off.",
              0.0, 1.0);
      s.Field("dup_line_frac", &dup_line_frac,
              "Reject documents in which a larger share of lines repeats an "
              "earlier one (gopher_dup_line_frac); 0 turns the rule off.",
              0.0, 1.0);
      s.Field("dup_line_char_frac", &dup_line_char_frac,
              "Reject documents in which repeated lines hold a larger share "
              "of the characters (gopher_dup_line_char_frac); 0 off.",
              0.0, 1.0);
      const char* top_help =
          "Reject documents in which the most frequent n-gram of words "
          "(n in the name), times its count, holds a larger share of the "
          "characters (gopher_top_<n>gram); 0 turns the rule off.";
      s.Field("top_2gram_frac", &top_2gram_frac, top_help, 0.0, 1.0);
      s.Field("top_3gram_frac", &top_3gram_frac, top_help, 0.0, 1.0);
      s.Field("top_4gram_frac", &top_4gram_frac, top_help, 0.0, 1.0);
      const char* dup_help =
          "Reject documents in which repeated n-grams of words (n in the "
          "name) hold a larger share of the characters (gopher_dup_<n>gram); "
          "0 turns the rule off.";
      s.Field("dup_5gram_frac", &dup_5gram_frac, dup_help, 0.0, 1.0);
      s.Field("dup_6gram_frac", &dup_6gram_frac, dup_help, 0.0, 1.0);
      s.Field("dup_7gram_frac", &dup_7gram_frac, dup_help, 0.0, 1.0);
      s.Field("dup_8gram_frac", &dup_8gram_frac, dup_help, 0.0, 1.0);
      s.Field("dup_9gram_frac", &dup_9gram_frac, dup_help, 0.0, 1.0);
      s.Field("dup_10gram_frac", &dup_10gram_frac, dup_help, 0.0, 1.0);
      s.Field("skip_languages", &skip_languages,
              "Documents whose lang signal is one of these pass unmeasured: "
              "scripts without spaces between words.");
    }
  };

  explicit GopherRepetition(const Options& options) : options_(options) {}
  std::string_view name() const override { return "gopher_repetition"; }
  void Process(std::span<Document> docs) const override;

  static constexpr int kMinTopN = 2;  // top n-grams: n = 2, 3, 4
  static constexpr int kMinDupN = 5;  // duplicated n-grams: n = 5 ... 10
  // What the rules measure on one document, as fractions of its code
  // points (paragraph and line counts: of paragraphs and lines). Exposed
  // for tests and the benchmark.
  struct Measures {
    double dup_para_frac = 0;
    double dup_para_char_frac = 0;
    double dup_line_frac = 0;
    double dup_line_char_frac = 0;
    std::array<double, 3> top_ngram_frac{};  // [n - kMinTopN]
    std::array<double, 6> dup_ngram_frac{};  // [n - kMinDupN]
  };
  static Measures Measure(std::string_view text);
  // The same, given words = SplitWords(text) (the document's cached
  // words::WordsOf).
  static Measures Measure(std::string_view text,
                          std::span<const std::string_view> words);
  // The first failing rule in datatrove's order, or kOk.
  Reason Verdict(const Measures& m) const;

 private:
  Options options_;
};

}  // namespace needle
