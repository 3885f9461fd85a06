#pragma once
// One `needle run`: find the shards, skip those a previous run completed
// with the same config and input, process the rest through the graph, and
// write OUT/run.json from the records of all of them.

#include <optional>
#include <string>
#include <vector>

#include "pipeline/counters.h"
#include "pipeline/run_config.h"

namespace needle {

struct RunRequest {
  std::vector<std::string> inputs;
  std::string out_dir;
  int threads = 1;
  bool quiet = false;
  bool progress = false;  // draw the progress line (stderr is a terminal)
  std::optional<double> max_error_rate;  // overrides [pipeline]
  std::string command_line;              // recorded in run.json
};

struct RunOutcome {
  ShardCounters totals;
  size_t shards = 0;
  size_t shards_resumed = 0;  // skipped: completed by an earlier run
  double error_rate = 0;      // quarantined / non-blank lines
  bool error_rate_exceeded = false;
  double max_error_rate = 1;
};

// Throws std::runtime_error for faults the run cannot go on from (no input,
// unwritable output).
RunOutcome RunPipeline(const RunConfig& config, const RunRequest& request);

// The version run.json records (git describe of the build).
const char* NeedleVersion();

}  // namespace needle
