#pragma once
// `needle sample`: the documents behind a number in run.json. For a stage
// reason it reads the rejected documents (OUT/rejected/, written with
// [output] write_rejected = true; with dedup on, the finalize step writes
// them there too); for an input fault, the quarantine entries
// (OUT/quarantine/*.jsonl). A seeded reservoir sample keeps `count` of the
// matching lines, printed in file order, so the same seed shows the same
// documents.

#include <cstdint>
#include <string>
#include <vector>

namespace needle {

struct SampleRequest {
  std::string out_dir;
  std::string reason;  // a Reason's snake_case name, as run.json counts it
  size_t count = 20;
  uint64_t seed = 0;
};

struct SampleResult {
  std::vector<std::string> lines;  // the sampled JSON lines, in file order
  uint64_t matched = 0;            // lines with the reason
  uint64_t counted = 0;            // run.json counts.reasons[reason]
  std::string folder;              // where they were read: "rejected"...
};

// Throws std::runtime_error with a message a user can act on: an unknown
// reason (with the closest name), a reason the run never counted, or
// rejected documents the run did not write.
SampleResult SampleDocuments(const SampleRequest& request);

}  // namespace needle
