#pragma once
// The oneTBB flow graph that carries shards from bytes to written outputs.

#include <span>
#include <string>

#include "pipeline/progress.h"
#include "pipeline/run_config.h"
#include "pipeline/shard.h"

namespace needle {

struct GraphPlan {
  const RunConfig* config = nullptr;
  std::span<const Shard> shards;  // to process, in input order
  std::string out_dir;
  int threads = 1;       // batches in flight are bounded by 2 x threads
  bool warnings = true;  // print the first fault of each kind to stderr
  Progress* progress = nullptr;
  uint64_t input_bytes_before = 0;  // of shards done before, for progress
};

// Processes every shard of the plan. Each completed shard leaves its outputs
// and its record (OUT/done/<stem>.json). Throws std::runtime_error when
// output cannot be written.
void RunGraph(const GraphPlan& plan);

}  // namespace needle
