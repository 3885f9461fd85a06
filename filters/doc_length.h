#pragma once
// Document length: records bytes, characters (Unicode code points), words
// (runs of non-whitespace) and lines, then rejects documents outside
// [min_chars, max_chars]. The signals are what later rules and tiers build
// on; the bounds default to off so the stage measures without dropping.
// Stateless after construction.

#include <cstdint>

#include "pipeline/config.h"
#include "stages/stage.h"

namespace needle {

class DocLength final : public Stage {
 public:
  struct Options {           // TOML [doc_length]
    uint64_t min_chars = 0;  // fewer code points: too_short
    uint64_t max_chars = 0;  // more code points: too_long; 0 = no limit

    void Visit(ConfigSection& s) {
      s.Field("min_chars", &min_chars,
              "Reject documents with fewer Unicode characters (too_short); "
              "0 keeps all.");
      s.Field("max_chars", &max_chars,
              "Reject documents with more Unicode characters (too_long); 0 "
              "means no limit.");
    }
  };

  explicit DocLength(const Options& options) : options_(options) {}
  std::string_view name() const override { return "doc_length"; }
  void Process(std::span<Document> docs) const override;

  struct Counts {
    int64_t chars = 0;
    int64_t words = 0;
    int64_t lines = 0;
  };
  // Exposed for tests. `text` is valid UTF-8 (the parser checked it).
  static Counts Count(std::string_view text);

 private:
  Options options_;
};

}  // namespace needle
