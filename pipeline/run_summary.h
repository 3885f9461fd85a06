#pragma once
// What the data-budget report needs from OUT/run.json (written by
// pipeline/run.cc), read back so that `needle budget` can recompute the
// report without re-running anything. Every number keeps the run.json path
// it came from, so the report can name its source.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/counters.h"

namespace simdjson::dom {
class element;
}  // namespace simdjson::dom

namespace needle {

struct TierCounts {
  std::string name;
  uint64_t docs = 0;
  uint64_t bytes = 0;   // bytes of text
  uint64_t tokens = 0;  // as the tokens stage counted them
  struct Language {
    uint64_t docs = 0, bytes = 0, tokens = 0;
  };
  std::map<std::string, Language> languages;
  std::string definition;  // the tier's condition, when run.json gives it
  std::string from;  // where in run.json these counts are, e.g. "tiers[0]"
};

struct RunSummary {
  std::string format;  // "needle.run/1"
  std::string version;
  std::string config_path;
  std::string config_hash;
  std::string config_resolved;
  struct Input {
    std::string name, path, xxh3, codec;
    uint64_t size_bytes = 0;
  };
  std::vector<Input> inputs;
  uint64_t input_file_bytes = 0;  // the sum of inputs[].size_bytes
  // counts: the run's totals.
  uint64_t lines = 0, blank_lines = 0, bytes = 0, docs = 0;
  uint64_t kept = 0, rejected = 0, quarantined = 0;
  std::vector<std::pair<std::string, uint64_t>> reasons;  // run.json order
  struct Stage {
    std::string name;
    uint64_t docs_in = 0, docs_out = 0;
    std::vector<std::pair<std::string, uint64_t>> rejects;
  };
  std::vector<Stage> stages;
  std::map<std::string, LanguageCounts, std::less<>> languages;
  // In funnel order, loosest first: run.json's "tiers", or one "kept" tier.
  std::vector<TierCounts> tiers;
};

// Reads `path`; throws std::runtime_error ("<path>: not a needle run.json:
// <what is missing>") when it cannot.
RunSummary ReadRunSummary(const std::string& path);

// The tiers of a run: run.json's "tiers" array when the run had tiers
// (issue 6: [{"name","docs","bytes","tokens","languages":{...}}], loosest
// first), else one tier "kept" summed from counts.languages' kept_* counts,
// or from counts.kept alone when no lang stage counted languages. The one
// place that knows the tiers' shape.
std::vector<TierCounts> ReadTiers(const simdjson::dom::element& root,
                                  const RunSummary& run);

}  // namespace needle
