#pragma once
// Token counts: records "tokens", the number of tokens in the document's
// text under one of OpenAI's encodings, exactly as tiktoken@1.0.22's
// encode_ordinary counts them (special-token strings count as ordinary
// text). Never rejects. The encoding is loaded once, when the stage is
// built, from <models_dir>/<encoding>.json (scripts/setup fetches the npm
// package's encoders/*.json there), and then shared read-only by every
// thread; each thread keeps its own cache of piece counts
// (stages/bpe_tokenizer.h).

#include <string>

#include "pipeline/config.h"
#include "stages/bpe_tokenizer.h"
#include "stages/stage.h"

namespace needle {

class TokenCount final : public Stage {
 public:
  struct Options {  // TOML [tokens]
    std::string encoding = "cl100k_base";
    std::string models_dir = "models";
    // Tiers report tokens for every tier, the loosest included, so rejected
    // documents are counted too: measured, not estimated from bytes.
    bool count_rejected = true;

    void Visit(ConfigSection& s) {
      s.Choice("encoding", &encoding,
               {"cl100k_base", "o200k_base", "r50k_base"},
               "OpenAI encoding whose tokens are counted: cl100k_base is "
               "GPT-4's, o200k_base GPT-4o's, r50k_base GPT-2's.");
      s.Field("models_dir", &models_dir,
              "Folder holding <encoding>.json (tiktoken's encoders/*.json), "
              "relative to the current directory; scripts/setup fills "
              "models/.");
      s.Field("count_rejected", &count_rejected,
              "Also count documents an earlier stage rejected, so that the "
              "raw tier's tokens (and rejected/) are measured too.");
    }
  };

  // Loads the encoding; throws std::runtime_error naming the file when it
  // is missing or malformed.
  explicit TokenCount(const Options& options);
  std::string_view name() const override { return "tokens"; }
  void Process(std::span<Document> docs) const override;

  const BpeTokenizer& tokenizer() const { return tokenizer_; }

 private:
  Options options_;
  BpeTokenizer tokenizer_;
};

}  // namespace needle
