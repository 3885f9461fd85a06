#pragma once
// Counts that end up in run.json. They are summed per batch and merged by
// addition in sequence order (datatrove's Stats.__add__), so every count is
// identical at any thread count. CPU seconds are kept apart: they are
// measurements, not counts, and differ from run to run.

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "pipeline/reason.h"

namespace needle {

using ReasonCounts = std::array<uint64_t, kReasonCount>;

struct StageCounters {
  std::string name;
  uint64_t docs_in = 0;
  uint64_t docs_out = 0;
  ReasonCounts rejects{};  // by the reason this stage set
  double cpu_seconds = 0;  // thread CPU time spent in Process()

  void Add(const StageCounters& other);
};

// Documents by the language the `lang` stage gave them: all that reached
// it and those kept; bytes of text; tokens where a stage recorded "tokens".
struct LanguageCounts {
  uint64_t docs = 0;
  uint64_t bytes = 0;
  uint64_t tokens = 0;
  uint64_t kept_docs = 0;
  uint64_t kept_bytes = 0;
  uint64_t kept_tokens = 0;

  void Add(const LanguageCounts& other);
};

struct ShardCounters {
  uint64_t lines = 0;        // lines read, blank ones included
  uint64_t blank_lines = 0;  // whitespace-only lines: no document, no fault
  uint64_t bytes = 0;        // decompressed bytes read
  uint64_t docs = 0;         // lines that parsed into documents
  // Every document ends in exactly one of these three; input faults and
  // stage errors are both quarantined.
  uint64_t kept = 0;
  uint64_t rejected = 0;
  uint64_t quarantined = 0;
  ReasonCounts reasons{};             // quarantine and reject reasons together
  std::vector<StageCounters> stages;  // in pipeline order
  // By the "lang" signal, sorted by language; empty without a lang stage.
  std::map<std::string, LanguageCounts, std::less<>> languages;

  void Add(const ShardCounters& other);
};

}  // namespace needle
