#include "stages/quality.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "stages/fasttext_classifier.h"

namespace needle {

Quality::Quality(const Options& options) : options_(options) {
  try {
    model_ = std::make_shared<FastTextClassifier>(options.model_path);
  } catch (const std::exception& error) {
    throw std::runtime_error(fmt::format(
        "quality: cannot load the model {}: {} (run scripts/setup to train "
        "models/quality.bin, or set [quality] model_path)",
        options.model_path, error.what()));
  }
  std::string labels;
  for (int32_t id = 0; id < model_->label_count(); ++id) {
    if (model_->full_label(id) == options.label) label_id_ = id;
    labels += fmt::format("{}'{}'", labels.empty() ? "" : ", ",
                          model_->full_label(id));
  }
  if (label_id_ < 0) {
    throw std::runtime_error(
        fmt::format("quality: label '{}' is not a label of {} (its labels: "
                    "{}); set [quality] label",
                    options.label, options.model_path, labels));
  }
}

Quality::~Quality() = default;

void Quality::Process(std::span<Document> docs) const {
  FastTextClassifier::Buffers& buffers = model_->ThreadBuffers();
  // Every label, so that the wanted one is among them whatever its rank.
  // DCLM instead takes the top label's p, or 1 - p when the other label
  // wins; in floats that is not always fastText's probability of the label.
  const int32_t k = model_->label_count();
  for (Document& doc : docs) {
    if (!doc.ok()) continue;
    // The stage reads the text in place: fastText's tokenizer splits on
    // '\n' as on ' ', so the prefix tokenizes as FastTextLine() of it does.
    // (DCLM's str.splitlines() also breaks at U+0085, U+2028, U+2029 and
    // \x1c-\x1e, which fastText keeps inside words; we keep them too, as
    // a model trained by `needle quality train` saw them.)
    const std::string_view text =
        doc.text.substr(0, PrefixBytes(doc.text, options_.max_chars));
    double score = 0;  // no token: nothing to judge
    for (const auto& [log_probability, id] :
         model_->Predict(text, k, buffers)) {
      // As FastText::predictLine(): exp of the float log-probability.
      if (id == label_id_) score = std::exp(log_probability);
    }
    doc.signals.push_back({"quality_score", score});
    if (score < options_.min_score) Reject(doc, Reason::kQualityLowScore);
  }
}

}  // namespace needle
