#include "stages/token_count.h"

namespace needle {

TokenCount::TokenCount(const Options& options)
    : options_(options),
      tokenizer_(BpeTokenizer::Load(options.models_dir + "/" +
                                    options.encoding + ".json")) {}

void TokenCount::Process(std::span<Document> docs) const {
  thread_local BpeCache cache;
  for (Document& doc : docs) {
    const bool counted = doc.ok() || (options_.count_rejected &&
                                      !IsQuarantineReason(doc.reason));
    if (!counted) continue;
    doc.signals.push_back({"tokens", tokenizer_.Count(doc.text, cache)});
  }
}

}  // namespace needle
