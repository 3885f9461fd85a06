#include "pipeline/counters.h"

namespace needle {

void StageCounters::Add(const StageCounters& other) {
  docs_in += other.docs_in;
  docs_out += other.docs_out;
  for (int i = 0; i < kReasonCount; ++i) rejects[i] += other.rejects[i];
  cpu_seconds += other.cpu_seconds;
}

void LanguageCounts::Add(const LanguageCounts& other) {
  docs += other.docs;
  bytes += other.bytes;
  tokens += other.tokens;
  kept_docs += other.kept_docs;
  kept_bytes += other.kept_bytes;
  kept_tokens += other.kept_tokens;
}

void ShardCounters::Add(const ShardCounters& other) {
  lines += other.lines;
  blank_lines += other.blank_lines;
  bytes += other.bytes;
  docs += other.docs;
  kept += other.kept;
  rejected += other.rejected;
  quarantined += other.quarantined;
  for (int i = 0; i < kReasonCount; ++i) reasons[i] += other.reasons[i];
  if (stages.size() < other.stages.size()) stages.resize(other.stages.size());
  for (size_t i = 0; i < other.stages.size(); ++i) {
    if (stages[i].name.empty()) stages[i].name = other.stages[i].name;
    stages[i].Add(other.stages[i]);
  }
  for (const auto& [language, counts] : other.languages) {
    languages[language].Add(counts);
  }
}

}  // namespace needle
