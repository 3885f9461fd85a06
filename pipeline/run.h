#pragma once
// One `needle run`: find the shards, skip those a previous run completed
// with the same config and input, process the rest through the graph, and
// write OUT/run.json from the records of all of them.

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pipeline/counters.h"
#include "pipeline/run_config.h"
#include "pipeline/shard.h"
#include "pipeline/shard_record.h"

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
  std::string funnel;  // with tiers: the funnel as a table, for the terminal
};

// Throws std::runtime_error for faults the run cannot go on from (no input,
// unwritable output).
RunOutcome RunPipeline(const RunConfig& config, const RunRequest& request);

// The steps RunPipeline is made of, each of which can also run alone
// (`needle step`, one Slurm task each): they meet only through files in
// OUT, and each skips what its markers show done for this config and
// input, so running one again is safe. `shards` is FindShards(inputs); a
// per-shard step's task is an index into it. Each throws, naming the step,
// when a step before it is not done.

// Step 1, annotate: the graph over shards[i] for each i in `indices` that
// no earlier run completed. Returns, per index, whether one had (resumed).
std::vector<bool> RunAnnotate(const RunConfig& config,
                              const RunRequest& request,
                              std::span<const Shard> shards,
                              std::span<const size_t> indices);
// Whether step 1 is done for `shard` with this config and input.
bool IsAnnotated(const RunConfig& config, const std::string& out_dir,
                 const Shard& shard);
// Every shard's annotate record (OUT/done/<stem>.json).
std::vector<ShardRecord> ReadAnnotateRecords(const RunConfig& config,
                                             const std::string& out_dir,
                                             std::span<const Shard> shards);

// Step 2, cluster (with [dedup]). Returns false when it was done.
bool RunCluster(const RunConfig& config, const RunRequest& request,
                std::span<const Shard> shards);

// Step 3, finalize (with [dedup]) for shards[index]. Returns false when it
// was done.
bool RunFinalize(const RunConfig& config, const RunRequest& request,
                 std::span<const Shard> shards, size_t index);

// Step 4, tiers (with [tiers]). Returns the funnel as text, or nullopt when
// it was done.
std::optional<std::string> RunTiers(const RunConfig& config,
                                    const RunRequest& request,
                                    std::span<const Shard> shards);

// Step 5, report: OUT/run.json from the records of steps 1 and 3 and the
// funnel of step 4, then OUT/report.*. run.json records `resumed` (per
// shard: completed by an earlier run; missing ones are false).
RunOutcome RunReport(const RunConfig& config, const RunRequest& request,
                     std::span<const Shard> shards,
                     const std::vector<bool>& resumed);

// The version run.json records (git describe of the build).
const char* NeedleVersion();

}  // namespace needle
