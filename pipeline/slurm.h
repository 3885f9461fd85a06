#pragma once
// `needle run --executor slurm` and `needle status`: a run's steps
// (pipeline/step_plan.h) as sbatch scripts, one job per step and a job
// array for each per-shard step (task i = shard i), chained with
// --dependency=afterok so a step starts when the one before it succeeded.
// The jobs meet only through files in OUT, which must be on a filesystem
// every node sees, as must the inputs, the config, its models and the
// needle binary.
//
// OUT/slurm/ holds:
//   <step>.sbatch        the scripts, rewritten at each submission
//   jobs.json            what was submitted: config, inputs, job ids
//   logs/<step>-<job>_<task>.out   each task's stdout and stderr
//   state/<step>.<task>  "<job> <running|done|failed|cancelled> <attempt>
//                        [<exit status>]", written by the script
//
// Retries: each script re-runs a failed task itself, up to --max-retries
// times, inside the same allocation. sbatch --requeue was not chosen: Slurm
// requeues only on node failure or preemption (which it does by default,
// JobRequeue=1), never on a non-zero exit, and a requeue loses the task's
// place in the queue. A cancelled task (scancel, time limit) is not
// retried: someone meant it to stop.

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pipeline/run.h"
#include "pipeline/step_plan.h"

namespace needle {

struct SlurmOptions {
  std::string partition;    // empty: the cluster's default
  int cpus_per_task = 1;    // also each task's worker threads
  std::string mem;          // sbatch --mem, e.g. "8G"; empty: default
  std::string time;         // sbatch --time, e.g. "2:00:00"; empty: default
  std::string sbatch_args;  // more sbatch flags, as typed in a shell
  int max_retries = 2;      // re-runs of a failed task
  bool dry_run = false;     // write the scripts, print the commands
};

// What every script needs to run a step as `needle run` would have.
struct SlurmRun {
  RunRequest request;         // inputs and out_dir as given by the user
  std::string config_path;    // as given
  std::string workdir;        // absolute: where relative paths start
  std::string needle_binary;  // absolute
  SlurmOptions options;
};

// OUT/slurm/jobs.json.
struct SlurmJob {
  StepKind step = StepKind::kAnnotate;
  std::string id;             // sbatch's job id (an array's id)
  std::vector<size_t> tasks;  // the array indices submitted, or {0}
};
struct SlurmJobs {
  std::string workdir;
  std::string config_path;
  std::vector<std::string> inputs;
  std::vector<std::vector<SlurmJob>> submissions;  // oldest first
};

// nullopt when OUT/slurm/jobs.json does not exist; throws when damaged.
std::optional<SlurmJobs> ReadSlurmJobs(const std::string& out_dir);

// The sbatch script of one step (the text of OUT/slurm/<step>.sbatch).
// `resumed`: the report step's --resumed list (tasks done before).
std::string StepScript(const SlurmRun& run, StepKind step,
                       const std::vector<size_t>& resumed);

// Writes the scripts and submits the steps and tasks not yet done, each
// depending on the job before it; returns what to print. With dry_run it
// only writes the scripts and returns the sbatch commands as a shell
// snippet. Throws when jobs of an earlier submission to OUT are still
// queued or running, or sbatch fails. Call with the working directory at
// run.workdir.
std::string SubmitToSlurm(const RunConfig& config, const SlurmRun& run);

// `needle status`: per step, tasks done, running, failed and pending, from
// the markers in OUT, the scripts' state files and, where Slurm answers,
// squeue and sacct. Call with the working directory at jobs.workdir.
std::string SlurmStatusText(const RunConfig& config, const SlurmJobs& jobs,
                            const std::string& out_dir);

// `text` quoted for a POSIX shell.
std::string ShellQuote(std::string_view text);

}  // namespace needle
