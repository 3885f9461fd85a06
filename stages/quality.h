#pragma once
// Model-based quality: the probability that a fastText classifier gives a
// document's high-quality label, as DCLM's quality filter scores pages
// (Li et al. 2024; `needle quality train` trains such a model, and
// scripts/setup trains the default one, models/quality.bin).
//
// The model sees the text as DCLM's classifier sees it: newlines become
// spaces (one fastText example per document), optionally cut to its first
// max_chars code points. Nothing is lowercased: DCLM neither lowercases its
// training data nor the text it scores, and fastText's words are
// case-sensitive. (datatrove's FastTextClassifierFilter joins lines with
// no space by default, gluing the last word of a line to the first of the
// next; we follow DCLM and cc_net.)
//
// Records "quality_score": the probability of `label` exactly as
// `fasttext predict-prob MODEL - K` prints it for the prepared line, with K
// the number of labels (stages/fasttext_classifier.h; DCLM takes 1 - p when
// the other label wins, which differs from it in the last bits). A text with
// no token at all (whitespace only) scores 0: there is no text to judge,
// where fastText would score the lone end-of-line token. Then rejects
// documents scoring below min_score (quality_low_score).
//
// One read-only model is shared by every thread (fastText prediction is
// read-only; each thread has its own scratch buffers).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "pipeline/config.h"
#include "stages/stage.h"

namespace needle {

class FastTextClassifier;

class Quality final : public Stage {
 public:
  struct Options {  // TOML [quality]
    std::string model_path = "models/quality.bin";
    std::string label = "__label__hq";
    double min_score = 0;    // 0 = measure only
    uint64_t max_chars = 0;  // prefix given to the model; 0 = whole text

    void Visit(ConfigSection& s) {
      s.Field("model_path", &model_path,
              "fastText quality classifier (.bin or .ftz), relative to the "
              "current directory; scripts/setup trains models/quality.bin, "
              "`needle quality train` trains your own.");
      s.Field("label", &label,
              "The model's label for high quality, prefix included; "
              "quality_score is its probability.");
      s.Field("min_score", &min_score,
              "Reject documents whose quality_score is below this "
              "(quality_low_score); 0 only measures.",
              0.0, 1.0);
      s.Field("max_chars", &max_chars,
              "Give the model only the first max_chars Unicode characters "
              "(newlines become spaces first); 0 gives the whole text.");
    }
  };

  // Loads the model; throws std::runtime_error naming the path when it
  // cannot be read, and naming the labels when `label` is not one of them.
  explicit Quality(const Options& options);
  ~Quality() override;
  Quality(const Quality&) = delete;
  Quality& operator=(const Quality&) = delete;

  std::string_view name() const override { return "quality"; }
  void Process(std::span<Document> docs) const override;

 private:
  Options options_;
  std::shared_ptr<const FastTextClassifier> model_;
  int32_t label_id_ = -1;
};

}  // namespace needle
