#pragma once
// A run as steps and tasks (pipeline/run.h), and which tasks are done: what
// a re-submission to Slurm submits and what `needle status` counts.
//
// A task is done when its step's markers show it done for this config and
// input and every step before it is done: a step that must run again may
// change what the steps after it read, so they are run again too (each
// returns at once if its own markers still match).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/run.h"
#include "pipeline/run_config.h"
#include "pipeline/shard.h"

namespace needle {

enum class StepKind : uint8_t {
  kAnnotate,  // per shard: the graph
  kCluster,   // global, with [dedup]
  kFinalize,  // per shard, with [dedup]
  kTiers,     // global, with [tiers]
  kReport,    // global: run.json and report.*
};

// As `needle step` spells it: "annotate", "cluster"...
std::string_view StepName(StepKind kind);
std::optional<StepKind> ParseStepName(std::string_view name);
// Per shard (a Slurm job array, task i = shard i) or global (one task).
bool IsPerShard(StepKind kind);

struct StepTasks {
  StepKind kind = StepKind::kAnnotate;
  std::vector<bool> done;  // one per task: per shard, or a single one

  std::vector<size_t> Missing() const;  // the tasks not done, in order
};

// The steps of a run with `config` over `shards`, in order, with what is
// done in `out_dir`. Reads only markers and records, never outputs.
std::vector<StepTasks> PlanSteps(const RunConfig& config,
                                 std::span<const Shard> shards,
                                 const std::string& out_dir);

// Task indices as Slurm's --array takes them: {0,1,2,5,7,8} -> "0-2,5,7-8".
std::string ArrayRanges(std::span<const size_t> tasks);
// The reverse; throws std::runtime_error on anything else.
std::vector<size_t> ParseArrayRanges(std::string_view text);

struct StepResult {
  std::string text;                   // what to print
  std::optional<RunOutcome> outcome;  // the report step's
};

// `needle step`: task `task` of a per-shard step (every shard's when
// nullopt) or the one task of a global step, with TBB bounded to
// request.threads. `resumed` goes to the report's run.json.
StepResult RunStep(const RunConfig& config, const RunRequest& request,
                   StepKind step, std::optional<size_t> task,
                   const std::vector<size_t>& resumed);

}  // namespace needle
