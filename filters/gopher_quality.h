#pragma once
// Gopher's document quality rules (Rae et al. 2021, "Scaling Language Models:
// Methods, Analysis & Insights from Training Gopher", appendix A.1.1), as
// datatrove's GopherQualityFilter defines them, with its default thresholds.
// Words are words::SplitWords tokens (datatrove's split_into_words); "words"
// below means the tokens that are not all punctuation, "tokens" all of them.
//
// Unlike datatrove, which returns at the first failing rule, the stage first
// records every signal (so thresholds can be re-tuned from stored signals),
// then rejects with the first failing rule in datatrove's order:
//   gopher.word_count          words                   kGopherTooFewWords,
//                                                      kGopherTooManyWords
//   gopher.mean_word_length    code points per word    kGopherShortWords,
//                                                      kGopherLongWords
//   gopher.hash_ratio          '#' per token           kGopherHashRatio
//   gopher.ellipsis_ratio      "..." and U+2026 per token
//                                                      kGopherEllipsisRatio
//   gopher.bullet_lines_ratio  lines starting with '-' or U+2022
//                                                      kGopherBulletLines
//   gopher.ellipsis_lines_ratio  lines ending with "..." or U+2026
//                                                      kGopherEllipsisLines
//   gopher.alpha_words_ratio   tokens with a letter    kGopherFewAlphaWords
//   gopher.stop_words          distinct stop words present (case-sensitive)
//                                                      kGopherFewStopWords
// plus gopher.tokens (the ratios' denominator). Lines are Python's
// str.splitlines(), stripped of Python whitespace before the bullet and
// ellipsis tests; lengths are code points, as Python's len().
//
// Documents whose "lang" signal is in skip_languages (scripts written without
// spaces between words) pass with no signals. A threshold of 0 turns its rule
// off, as datatrove's `if self.x and ...` does.
//
// Deliberate differences from datatrove, each where datatrove would divide
// by zero or compare with NaN: with no words the mean word length is recorded
// as 0 and its rules pass (datatrove: NaN, which passes); with no tokens the
// per-token ratios are 0 and the alpha-word rule passes (datatrove raises
// ZeroDivisionError); with no lines the line ratios are 0. The alpha-word
// threshold is named min_alpha_words_ratio (datatrove's
// max_non_alpha_words_ratio, whose own TODO asks for this name).
//
// Stateless after construction: Process() runs on many batches at once.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/config.h"
#include "stages/stage.h"

namespace needle {

class GopherQuality final : public Stage {
 public:
  struct Options {  // TOML [gopher_quality]
    int64_t min_doc_words = 50;
    int64_t max_doc_words = 100'000;
    double min_avg_word_length = 3;
    double max_avg_word_length = 10;
    double max_symbol_word_ratio = 0.1;
    double max_bullet_lines_ratio = 0.9;
    double max_ellipsis_lines_ratio = 0.3;
    double min_alpha_words_ratio = 0.8;
    int64_t min_stop_words = 2;
    std::vector<std::string> stop_words = {"the", "be",   "to",   "of",
                                           "and", "that", "have", "with"};
    std::vector<std::string> skip_languages = {"zh", "ja", "th", "ko",
                                               "my", "lo", "km", "bo"};

    void Visit(ConfigSection& s) {
      s.Field("min_doc_words", &min_doc_words,
              "Reject documents with fewer words (tokens not all punctuation) "
              "(gopher_too_few_words); 0 turns the rule off.",
              0);
      s.Field("max_doc_words", &max_doc_words,
              "Reject documents with more words (gopher_too_many_words); 0 "
              "turns the rule off.",
              0);
      s.Field("min_avg_word_length", &min_avg_word_length,
              "Reject documents whose mean word length, in characters, is "
              "below this (gopher_short_words); 0 turns the rule off.",
              0.0);
      s.Field("max_avg_word_length", &max_avg_word_length,
              "Reject documents whose mean word length, in characters, is "
              "above this (gopher_long_words); 0 turns the rule off.",
              0.0);
      s.Field("max_symbol_word_ratio", &max_symbol_word_ratio,
              "Reject documents with more '#' per token (gopher_hash_ratio), "
              "or more ellipses per token (gopher_ellipsis_ratio), than this; "
              "0 turns both rules off.",
              0.0);
      s.Field("max_bullet_lines_ratio", &max_bullet_lines_ratio,
              "Reject documents in which a larger share of lines starts with "
              "'-' or a bullet (gopher_bullet_lines); 0 turns the rule off.",
              0.0, 1.0);
      s.Field("max_ellipsis_lines_ratio", &max_ellipsis_lines_ratio,
              "Reject documents in which a larger share of lines ends with an "
              "ellipsis (gopher_ellipsis_lines); 0 turns the rule off.",
              0.0, 1.0);
      s.Field("min_alpha_words_ratio", &min_alpha_words_ratio,
              "Reject documents in which a smaller share of tokens holds a "
              "letter (gopher_few_alpha_words); 0 turns the rule off.",
              0.0, 1.0);
      s.Field("min_stop_words", &min_stop_words,
              "Reject documents holding fewer distinct stop_words "
              "(gopher_few_stop_words); 0 turns the rule off.",
              0);
      s.Field("stop_words", &stop_words,
              "The stop words min_stop_words counts, matched case-sensitively "
              "against whole tokens.");
      s.Field("skip_languages", &skip_languages,
              "Documents whose lang signal is one of these pass unmeasured: "
              "scripts without spaces between words.");
    }
  };

  explicit GopherQuality(const Options& options);
  std::string_view name() const override { return "gopher_quality"; }
  void Process(std::span<Document> docs) const override;

  // What the rules measure on one document. Exposed for tests and the
  // benchmark.
  struct Measures {
    int64_t tokens = 0;
    int64_t words = 0;
    double mean_word_length = 0;
    double hash_ratio = 0;
    double ellipsis_ratio = 0;
    double bullet_lines_ratio = 0;
    double ellipsis_lines_ratio = 0;
    double alpha_words_ratio = 0;
    int64_t stop_words = 0;
  };
  // `words` are SplitWords(text) and `lines` str.splitlines() of it (the
  // document's cached words::WordsOf and words::LinesOf).
  Measures Measure(std::string_view text,
                   std::span<const std::string_view> words,
                   std::span<const std::string_view> lines) const;
  // The first failing rule in datatrove's order, or kOk.
  Reason Verdict(const Measures& m) const;

 private:
  Options options_;
  size_t min_stop_word_bytes_ = 0;
  size_t max_stop_word_bytes_ = 0;
  // options_.stop_words, those of up to 8 bytes packed into an integer, so
  // that most tokens are matched without a memcmp.
  struct PackedWord {
    size_t size;
    uint64_t packed;  // 0 for words of more than 8 bytes
  };
  std::vector<PackedWord> packed_stop_words_;
};

}  // namespace needle
