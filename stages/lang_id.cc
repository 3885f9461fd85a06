#include "stages/lang_id.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "pipeline/json_text.h"
#include "stages/fasttext_classifier.h"

namespace needle {
namespace {

constexpr std::string_view kUndetermined = "und";

}  // namespace

size_t LangId::PrefixBytes(std::string_view text, uint64_t max_chars) {
  return needle::PrefixBytes(text, max_chars);
}

std::string LangId::Prepare(std::string_view text, uint64_t max_chars) {
  return FastTextLine(text, max_chars);
}

LangId::LangId(const Options& options) : options_(options) {
  try {
    model_ = std::make_shared<FastTextClassifier>(options.model_path);
  } catch (const std::exception& error) {
    throw std::runtime_error(
        fmt::format("lang: cannot load the model {}: {} (run scripts/setup "
                    "to fetch models/, or set [lang] model_path)",
                    options.model_path, error.what()));
  }
  const int32_t labels = model_->label_count();
  // One slot per label, then one for "und" (no words to go by).
  auto slot_of = [&](const std::string& code, std::string_view key) {
    if (code == kUndetermined) return labels;
    const int32_t id = model_->FindLabel(code);
    if (id < 0) {
      throw std::runtime_error(fmt::format(
          "lang: {} names '{}', which is not a label of {} (labels look "
          "like '{}')",
          key, code, options.model_path, model_->label(0)));
    }
    return id;
  };
  allowed_.assign(labels + 1, options.languages.empty());
  for (const std::string& code : options.languages) {
    allowed_[slot_of(code, "languages")] = true;
  }
  min_scores_.assign(labels + 1, options.min_score);
  for (const auto& [code, score] : options.min_score_by_lang) {
    min_scores_[slot_of(code, "min_score_by_lang")] = score;
  }
}

LangId::~LangId() = default;

void LangId::Process(std::span<Document> docs) const {
  FastTextClassifier::Buffers& buffers = model_->ThreadBuffers();
  const int32_t labels = model_->label_count();
  for (Document& doc : docs) {
    if (!doc.ok()) continue;
    const std::string_view text =
        doc.text.substr(0, PrefixBytes(doc.text, options_.max_chars));
    const auto predictions = model_->Predict(text, options_.top_k, buffers);
    int32_t slot = labels;  // "und"
    double score = 0.0;
    if (!predictions.empty()) {
      slot = predictions[0].second;
      // As FastText::predictLine(): exp of the float log-probability.
      score = std::exp(predictions[0].first);
    }
    doc.signals.push_back(
        {"lang",
         std::string(slot == labels ? kUndetermined
                                    : std::string_view(model_->label(slot)))});
    doc.signals.push_back({"lang_score", score});
    if (options_.top_k > 1) {
      std::string top;
      for (const auto& [log_probability, id] : predictions) {
        if (!top.empty()) top.push_back(',');
        top.append(model_->label(id));
        top.push_back(':');
        AppendJsonNumber(std::exp(log_probability), &top);
      }
      doc.signals.push_back({"lang_top_k", std::move(top)});
    }
    if (!allowed_[slot]) {
      Reject(doc, Reason::kLangNotAllowed);
    } else if (score < min_scores_[slot]) {
      Reject(doc, Reason::kLangLowScore);
    }
  }
}

}  // namespace needle
