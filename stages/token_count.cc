#include "stages/token_count.h"

namespace needle {

TokenCount::TokenCount(const Options& options)
    : tokenizer_(BpeTokenizer::Load(options.models_dir + "/" +
                                    options.encoding + ".json")) {}

void TokenCount::Process(std::span<Document> docs) const {
  thread_local BpeCache cache;
  for (Document& doc : docs) {
    if (!doc.ok()) continue;
    doc.signals.push_back({"tokens", tokenizer_.Count(doc.text, cache)});
  }
}

}  // namespace needle
