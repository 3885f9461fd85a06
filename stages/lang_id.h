#pragma once
// Language identification with a fastText model (lid.176 by default, Joulin
// et al. 2016), exactly as the fastText command-line tool predicts it
// (stages/fasttext_classifier.h).
//
// The text is prepared as cc_net and datatrove prepare it: newlines become
// spaces (so the document is one fastText example), optionally cut to its
// first max_chars code points. The prediction is then the one
// `fasttext predict-prob MODEL - K` prints for that prepared line, label for
// label and bit for bit (tests/stages/lang_id_test.cc checks this against
// the CLI and against libfasttext's predictLine()).
//
// Records "lang" (the top label without "__label__", e.g. "en") and
// "lang_score" (its probability), plus "lang_top_k" ("en:0.91,de:0.04")
// when top_k > 1. A text with no token at all (whitespace only) gets no
// prediction: lang "und", score 0. Then rejects, in this order: a language
// outside a non-empty `languages` list (lang_not_allowed), a score below the
// language's minimum (lang_low_score).
//
// One read-only model is shared by every thread; each thread keeps its own
// scratch buffers, so Process() allocates nothing per document beyond the
// signals themselves once a thread has seen its longest document.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/config.h"
#include "stages/stage.h"

namespace needle {

class FastTextClassifier;

class LangId final : public Stage {
 public:
  struct Options {  // TOML [lang]
    std::string model_path = "models/lid.176.ftz";
    uint64_t max_chars = 0;  // prefix given to the model; 0 = whole text
    std::vector<std::string> languages;               // allow-list; empty = all
    double min_score = 0.65;                          // FineWeb's threshold
    std::map<std::string, double> min_score_by_lang;  // overrides min_score
    int top_k = 1;

    void Visit(ConfigSection& s) {
      s.Field("model_path", &model_path,
              "fastText language-ID model (.ftz or .bin), relative to the "
              "current directory; scripts/setup fetches lid.176.ftz.");
      s.Field("max_chars", &max_chars,
              "Give the model only the first max_chars Unicode characters "
              "(newlines become spaces first); 0 gives the whole text.");
      s.Field("languages", &languages,
              "Keep only these languages, as model labels without "
              "__label__ (\"en\", \"de\"); others are lang_not_allowed. "
              "Empty keeps all.");
      s.Field("min_score", &min_score,
              "Reject documents whose top language scores below this "
              "probability (lang_low_score); 0 keeps all.",
              0.0, 1.0);
      s.Field("min_score_by_lang", &min_score_by_lang,
              "Per-language min_score, e.g. { de = 0.5 }; languages not "
              "listed use min_score.",
              0.0, 1.0);
      s.Field("top_k", &top_k,
              "When above 1, also record the top_k labels with their "
              "probabilities as lang_top_k (\"en:0.91,de:0.04\").",
              1, 1000);
    }
  };

  // Loads the model; throws std::runtime_error naming the path when it
  // cannot be read, and for languages the model does not know.
  explicit LangId(const Options& options);
  ~LangId() override;
  LangId(const LangId&) = delete;
  LangId& operator=(const LangId&) = delete;

  std::string_view name() const override { return "lang"; }
  void Process(std::span<Document> docs) const override;

  // The text the model sees: '\n' replaced by ' ', cut after `max_chars`
  // code points (0: no cut). For tests and the benchmark, which give the
  // same line to the fastText CLI; Process() reads the text in place.
  static std::string Prepare(std::string_view text, uint64_t max_chars);
  // The length in bytes of the first `max_chars` code points of `text`
  // (all of it when max_chars is 0 or the text is shorter).
  static size_t PrefixBytes(std::string_view text, uint64_t max_chars);

 private:
  Options options_;
  std::shared_ptr<const FastTextClassifier> model_;
  // Per label id: allowed by `languages`, and the minimum score.
  std::vector<bool> allowed_;
  std::vector<double> min_scores_;
};

}  // namespace needle
