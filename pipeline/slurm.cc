#include "pipeline/slurm.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <simdjson.h>
#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "pipeline/atomic_file.h"
#include "pipeline/json_text.h"

namespace needle {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kJobsFormat = "needle.slurm/1";

std::string SlurmDir(const std::string& out_dir) {
  return (fs::absolute(out_dir) / "slurm").lexically_normal().string();
}

std::string ScriptPath(const std::string& out_dir, StepKind step) {
  return fmt::format("{}/{}.sbatch", SlurmDir(out_dir), StepName(step));
}

std::string StatePath(const std::string& out_dir, StepKind step, size_t task) {
  return fmt::format("{}/state/{}.{}", SlurmDir(out_dir), StepName(step), task);
}

// A job array's task as squeue and sacct name it ("41_2"), or the job.
std::string TaskJobId(const std::string& job, StepKind step, size_t task) {
  return IsPerShard(step) ? fmt::format("{}_{}", job, task) : job;
}

std::string LogPath(const std::string& out_dir, StepKind step,
                    const std::string& job, size_t task) {
  return fmt::format("{}/logs/{}-{}.out", SlurmDir(out_dir), StepName(step),
                     TaskJobId(job, step, task));
}

// Runs `command` with /bin/sh; its stdout in *out. Returns the exit status,
// or -1 when it could not run or was killed.
int RunShell(const std::string& command, std::string* out) {
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  std::string chunk(4096, '\0');
  while (size_t n = std::fread(chunk.data(), 1, chunk.size(), pipe)) {
    out->append(chunk.data(), n);
  }
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// squeue's view of our jobs: "41_2" or "42" -> {state, reason}. nullopt
// when squeue does not answer (no Slurm here).
std::optional<std::map<std::string, std::pair<std::string, std::string>>>
QueuedTasks() {
  std::string out;
  if (RunShell("squeue --noheader --array --me --format='%i|%T|%r' "
               "2>/dev/null",
               &out) != 0) {
    return std::nullopt;
  }
  std::map<std::string, std::pair<std::string, std::string>> tasks;
  for (const std::string& line : SplitLines(out)) {
    const size_t state = line.find('|');
    const size_t reason = line.find('|', state + 1);
    if (reason == std::string::npos) continue;
    tasks[line.substr(0, state)] = {line.substr(state + 1, reason - state - 1),
                                    line.substr(reason + 1)};
  }
  return tasks;
}

// sacct's final states of `jobs`' tasks, where accounting is on.
std::map<std::string, std::string> AccountedTasks(
    const std::vector<std::string>& jobs) {
  std::map<std::string, std::string> tasks;
  if (jobs.empty()) return tasks;
  std::string ids;
  for (const std::string& job : jobs) ids += (ids.empty() ? "" : ",") + job;
  std::string out;
  if (RunShell("sacct --noheader --allocations --parsable2 "
               "--format=JobID,State --jobs=" +
                   ShellQuote(ids) + " 2>/dev/null",
               &out) != 0) {
    return tasks;
  }
  for (const std::string& line : SplitLines(out)) {
    const size_t bar = line.find('|');
    if (bar == std::string::npos) continue;
    std::string state = line.substr(bar + 1);
    state = state.substr(0, state.find(' '));  // "CANCELLED by 0"
    tasks[line.substr(0, bar)] = state;
  }
  return tasks;
}

std::string SlurmJobsJson(const SlurmJobs& jobs) {
  std::string out = "{\"format\":";
  AppendJsonString(kJobsFormat, &out);
  out += ",\n\"workdir\":";
  AppendJsonString(jobs.workdir, &out);
  out += ",\n\"config\":";
  AppendJsonString(jobs.config_path, &out);
  out += ",\n\"inputs\":[";
  for (size_t i = 0; i < jobs.inputs.size(); ++i) {
    out += i ? "," : "";
    AppendJsonString(jobs.inputs[i], &out);
  }
  out += "],\n\"submissions\":[";
  for (size_t s = 0; s < jobs.submissions.size(); ++s) {
    out += s ? ",\n [" : "\n [";
    for (size_t j = 0; j < jobs.submissions[s].size(); ++j) {
      const SlurmJob& job = jobs.submissions[s][j];
      out += j ? ",\n  {\"step\":" : "\n  {\"step\":";
      AppendJsonString(StepName(job.step), &out);
      out += ",\"job\":";
      AppendJsonString(job.id, &out);
      out += ",\"tasks\":[";
      for (size_t t = 0; t < job.tasks.size(); ++t) {
        out += fmt::format("{}{}", t ? "," : "", job.tasks[t]);
      }
      out += "]}";
    }
    out += "]";
  }
  out += "]}\n";
  return out;
}

// Every job id of every submission.
std::vector<std::string> AllJobIds(const SlurmJobs& jobs) {
  std::vector<std::string> ids;
  for (const auto& submission : jobs.submissions) {
    for (const SlurmJob& job : submission) ids.push_back(job.id);
  }
  return ids;
}

std::string JobOf(const std::string& task_id) {
  return task_id.substr(0, task_id.find('_'));
}

// An earlier submission's jobs still in the queue would write the same
// files as the new ones. Those waiting on a dependency that failed can
// never run: they are cancelled; any other stops the submission.
std::string SettleEarlierJobs(const SlurmJobs& previous) {
  const auto queued = QueuedTasks();
  if (!queued) return "";  // no squeue: sbatch will say what is wrong
  std::vector<std::string> live;
  std::vector<std::string> dead;
  for (const std::string& id : AllJobIds(previous)) {
    for (const auto& [task, state] : *queued) {
      if (JobOf(task) != id) continue;
      const bool never = state.second == "DependencyNeverSatisfied";
      std::vector<std::string>& list = never ? dead : live;
      if (list.empty() || list.back() != id) list.push_back(id);
    }
  }
  if (!live.empty()) {
    throw std::runtime_error(fmt::format(
        "jobs {} of an earlier submission are still queued or running; wait "
        "for them (needle status) or scancel them, then submit again",
        fmt::join(live, " ")));
  }
  if (dead.empty()) return "";
  std::string ignored;
  RunShell(fmt::format("scancel {} 2>/dev/null", fmt::join(dead, " ")),
           &ignored);
  return fmt::format(
      "needle: cancelled jobs {}: their dependencies failed, so they could "
      "never start\n",
      fmt::join(dead, " "));
}

std::string TrimJobId(const std::string& parsable) {
  // sbatch --parsable prints "id" or "id;cluster".
  std::string id = parsable.substr(0, parsable.find_first_of(";\n"));
  while (!id.empty() && std::isspace(static_cast<unsigned char>(id.back()))) {
    id.pop_back();
  }
  return id;
}

// Where a task that is not done stands: in the queue, failed (and why),
// or neither. Asks squeue once, sacct only when needed.
class TaskStates {
 public:
  struct State {
    std::string job;  // the latest job that was to run the task
    bool queued = false;
    bool running = false;
    bool failed = false;
    std::string why;  // when failed
  };

  TaskStates(const SlurmJobs& jobs, std::string out_dir)
      : jobs_(jobs), out_dir_(std::move(out_dir)), queued_(QueuedTasks()) {}

  bool squeue_answered() const { return queued_.has_value(); }

  State Of(StepKind step, size_t task) {
    State state;
    for (const auto& submission : jobs_.submissions) {
      for (const SlurmJob& job : submission) {
        if (job.step == step && std::find(job.tasks.begin(), job.tasks.end(),
                                          task) != job.tasks.end()) {
          state.job = job.id;
        }
      }
    }
    if (state.job.empty()) return state;  // never submitted
    const std::string id = TaskJobId(state.job, step, task);
    if (queued_ && queued_->contains(id)) {
      const std::string& queue_state = queued_->at(id).first;
      state.queued = true;
      state.running = queue_state != "PENDING" && queue_state != "REQUEUED";
      return state;
    }
    // Gone from the queue without finishing: why, from the script's state
    // file, else from sacct.
    std::ifstream in(StatePath(out_dir_, step, task));
    std::string job, ended, attempt, exit_status;
    in >> job >> ended >> attempt >> exit_status;
    if (job == state.job && ended != "done") {
      if (ended == "running") {
        state.why = "ended without recording why (killed?)";
      } else if (ended == "cancelled") {
        state.why = "cancelled";
      } else {
        state.why = fmt::format("exit status {} after {} attempts", exit_status,
                                attempt);
      }
    } else {
      if (!accounted_) accounted_ = AccountedTasks(AllJobIds(jobs_));
      const auto it = accounted_->find(id);
      if (it != accounted_->end() && it->second != "COMPLETED" &&
          it->second != "PENDING" && it->second != "RUNNING") {
        state.why = it->second;
      }
    }
    state.failed = !state.why.empty();
    return state;
  }

 private:
  const SlurmJobs& jobs_;
  std::string out_dir_;
  std::optional<std::map<std::string, std::pair<std::string, std::string>>>
      queued_;
  std::optional<std::map<std::string, std::string>> accounted_;
};

}  // namespace

std::string ShellQuote(std::string_view text) {
  if (!text.empty() &&
      text.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
                             "VWXYZ0123456789_-./=:,+%@") ==
          std::string_view::npos) {
    return std::string(text);
  }
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::optional<SlurmJobs> ReadSlurmJobs(const std::string& out_dir) {
  const std::string path = SlurmDir(out_dir) + "/jobs.json";
  if (!fs::exists(path)) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  auto damaged = [&](std::string_view what) {
    return std::runtime_error(fmt::format("{}: {}", path, what));
  };
  if (parser.load(path).get(root)) throw damaged("not JSON");
  std::string_view format;
  if (root["format"].get(format) || format != kJobsFormat) {
    throw damaged(fmt::format("not a {} file", kJobsFormat));
  }
  SlurmJobs jobs;
  std::string_view text;
  simdjson::dom::array array;
  if (root["workdir"].get(text)) throw damaged("no workdir");
  jobs.workdir = text;
  if (root["config"].get(text)) throw damaged("no config");
  jobs.config_path = text;
  if (root["inputs"].get(array)) throw damaged("no inputs");
  for (simdjson::dom::element input : array) {
    if (input.get(text)) throw damaged("an input is not a string");
    jobs.inputs.emplace_back(text);
  }
  if (root["submissions"].get(array)) throw damaged("no submissions");
  for (simdjson::dom::element submission : array) {
    std::vector<SlurmJob>& submitted = jobs.submissions.emplace_back();
    simdjson::dom::array list;
    if (submission.get(list)) throw damaged("a submission is not a list");
    for (simdjson::dom::element entry : list) {
      SlurmJob& job = submitted.emplace_back();
      std::string_view step;
      std::optional<StepKind> kind;
      if (entry["step"].get(step) || !(kind = ParseStepName(step))) {
        throw damaged("a job has no known step");
      }
      job.step = *kind;
      if (entry["job"].get(text)) throw damaged("a job has no id");
      job.id = text;
      simdjson::dom::array tasks;
      if (entry["tasks"].get(tasks)) throw damaged("a job has no tasks");
      for (simdjson::dom::element task : tasks) {
        uint64_t index = 0;
        if (task.get(index)) throw damaged("a task is not a number");
        job.tasks.push_back(index);
      }
    }
  }
  return jobs;
}

std::string StepScript(const SlurmRun& run, StepKind step,
                       const std::vector<size_t>& resumed) {
  const SlurmOptions& o = run.options;
  const std::string name(StepName(step));
  const bool array = IsPerShard(step);
  std::string s = "#!/bin/bash\n";
  s += fmt::format(
      "# Step {} of a Needle run: {}.\n"
      "# Written by `needle run --executor slurm`, which submits it with\n"
      "# {}--dependency on the step before. A task already done returns at\n"
      "# once, so submitting again is safe.\n",
      name,
      array ? "one task per shard, array index = shard index" : "one task",
      array ? "--array and " : "");
  s += fmt::format("#SBATCH --job-name=needle-{}\n", name);
  s += fmt::format("#SBATCH --chdir={}\n", run.workdir);
  s += fmt::format("#SBATCH --output={}/logs/{}-{}.out\n",
                   SlurmDir(run.request.out_dir), name, array ? "%A_%a" : "%j");
  s += fmt::format("#SBATCH --cpus-per-task={}\n", o.cpus_per_task);
  if (!o.partition.empty()) {
    s += fmt::format("#SBATCH --partition={}\n", o.partition);
  }
  if (!o.mem.empty()) s += fmt::format("#SBATCH --mem={}\n", o.mem);
  if (!o.time.empty()) s += fmt::format("#SBATCH --time={}\n", o.time);

  std::string command = fmt::format(
      "{} step {} --config {} -o {} --threads \"${{SLURM_CPUS_PER_TASK:-1}}\"",
      ShellQuote(run.needle_binary), name, ShellQuote(run.config_path),
      ShellQuote(run.request.out_dir));
  if (array) command += " --task \"$task\"";
  if (step == StepKind::kReport && !resumed.empty()) {
    command += " --resumed " + ArrayRanges(resumed);
  }
  if (step == StepKind::kReport && run.request.max_error_rate) {
    command += fmt::format(" --max-error-rate {}", *run.request.max_error_rate);
  }
  for (const std::string& input : run.request.inputs) {
    command += " " + ShellQuote(input);
  }

  s += fmt::format(
      R"(
set -u
task=${{SLURM_ARRAY_TASK_ID:-0}}
job=${{SLURM_ARRAY_JOB_ID:-${{SLURM_JOB_ID:-none}}}}
state={state_dir}/{name}.$task
attempts={attempts}
delay=${{NEEDLE_RETRY_DELAY_S:-10}}
mkdir -p {state_dir}
# scancel and the time limit send SIGTERM: record it and stop, no retry.
trap 'echo "$job cancelled ${{attempt:-0}}" >"$state"; exit 143' TERM
for ((attempt = 1; ; attempt++)); do
  echo "$job running $attempt" >"$state"
  {command}
  status=$?
  if ((status == 0)); then
    echo "$job done $attempt" >"$state"
    exit 0
  fi
  # 3: the run's error rate is above the limit; running again cannot help.
  if ((status == 3 || attempt >= attempts)); then
    echo "$job failed $attempt $status" >"$state"
    exit "$status"
  fi
  echo "needle: attempt $attempt of $attempts failed with status $status;" \
    "retrying in $delay s" >&2
  sleep "$delay"
done
)",
      fmt::arg("state_dir",
               ShellQuote(SlurmDir(run.request.out_dir) + "/state")),
      fmt::arg("name", name), fmt::arg("attempts", o.max_retries + 1),
      fmt::arg("command", command));
  return s;
}

std::string SubmitToSlurm(const RunConfig& config, const SlurmRun& run) {
  const std::string& out_dir = run.request.out_dir;
  const std::vector<Shard> shards = FindShards(run.request.inputs);
  std::optional<SlurmJobs> jobs = ReadSlurmJobs(out_dir);
  std::string text;
  if (!run.options.dry_run && jobs) text += SettleEarlierJobs(*jobs);

  const std::vector<StepTasks> plan = PlanSteps(config, shards, out_dir);
  const std::string slurm_dir = SlurmDir(out_dir);
  fs::create_directories(slurm_dir + "/logs");
  fs::create_directories(slurm_dir + "/state");
  std::vector<size_t> resumed;  // annotated by an earlier submission
  for (size_t i = 0; i < plan[0].done.size(); ++i) {
    if (plan[0].done[i]) resumed.push_back(i);
  }
  for (const StepTasks& step : plan) {
    WriteFileAtomically(ScriptPath(out_dir, step.kind),
                        StepScript(run, step.kind, resumed));
  }

  std::vector<SlurmJob> submitted;
  std::string before;  // the job the next one depends on; for a dry
                       // run, the shell variable holding it
  // Saved after each job, so that a failed sbatch leaves a record of the
  // jobs it already queued (the next submission waits for them).
  auto save = [&] {
    if (!jobs) jobs.emplace();
    if (submitted.size() == 1) jobs->submissions.emplace_back();
    jobs->workdir = run.workdir;
    jobs->config_path = run.config_path;
    jobs->inputs = run.request.inputs;
    jobs->submissions.back() = submitted;
    WriteFileAtomically(slurm_dir + "/jobs.json", SlurmJobsJson(*jobs));
  };
  for (const StepTasks& step : plan) {
    const std::vector<size_t> tasks = step.Missing();
    if (tasks.empty()) continue;
    const std::string name(StepName(step.kind));
    std::string command = "sbatch --parsable";
    if (IsPerShard(step.kind)) command += " --array=" + ArrayRanges(tasks);
    if (!before.empty()) {
      command +=
          " --dependency=afterok:" + before + " --kill-on-invalid-dep=yes";
    }
    if (!run.options.sbatch_args.empty()) {
      command += " " + run.options.sbatch_args;
    }
    command += " " + ShellQuote(ScriptPath(out_dir, step.kind));
    if (run.options.dry_run) {
      text += fmt::format("{}=$({})\n", name, command);
      before = "$" + name;
      continue;
    }
    std::string out;
    const std::string id =
        TrimJobId(RunShell(command, &out) == 0 ? out : std::string());
    if (id.empty()) {
      throw std::runtime_error(fmt::format(
          "`{}` failed{}", command,
          submitted.empty() ? "" : "; the steps before it stay submitted"));
    }
    text += fmt::format("needle: {:<8} job {}{}: {}\n", name, id,
                        IsPerShard(step.kind)
                            ? fmt::format(", tasks {}", ArrayRanges(tasks))
                            : "",
                        command);
    submitted.push_back({step.kind, id, tasks});
    save();
    before = id;
  }

  if (run.options.dry_run) {
    return fmt::format(
        "# needle: dry run: scripts in {}/; nothing submitted. By hand:\n{}",
        slurm_dir, text);
  }
  if (submitted.empty()) {
    return text + fmt::format(
                      "needle: every step is done in {}; nothing to "
                      "submit\n",
                      out_dir);
  }
  return text + fmt::format(
                    "needle: follow with `needle status {}`; job ids "
                    "in {}/jobs.json\n",
                    out_dir, slurm_dir);
}

std::string SlurmStatusText(const RunConfig& config, const SlurmJobs& jobs,
                            const std::string& out_dir) {
  const std::vector<Shard> shards = FindShards(jobs.inputs);
  TaskStates states(jobs, out_dir);
  std::string table =
      fmt::format("{:<9} {:>6} {:>6} {:>8} {:>7} {:>8}\n", "step", "tasks",
                  "done", "running", "failed", "pending");
  std::string notes;
  size_t idle = 0;  // pending, but in no queue: they need a submission
  size_t totals[4] = {};
  for (const StepTasks& step : PlanSteps(config, shards, out_dir)) {
    size_t counts[4] = {};  // done, running, failed, pending
    for (size_t task = 0; task < step.done.size(); ++task) {
      if (step.done[task]) {
        ++counts[0];
        continue;
      }
      const TaskStates::State state = states.Of(step.kind, task);
      ++counts[state.failed ? 2 : state.running ? 1 : 3];
      idle += !state.failed && !state.running && !state.queued;
      if (!state.failed) continue;
      notes += fmt::format(
          "failed: {} task {}{} (job {}): {}; log {}\n", StepName(step.kind),
          task,
          IsPerShard(step.kind) ? fmt::format(" ({})", shards[task].name) : "",
          TaskJobId(state.job, step.kind, task), state.why,
          LogPath(out_dir, step.kind, state.job, task));
    }
    table += fmt::format("{:<9} {:>6} {:>6} {:>8} {:>7} {:>8}\n",
                         StepName(step.kind), step.done.size(), counts[0],
                         counts[1], counts[2], counts[3]);
    for (int i = 0; i < 4; ++i) totals[i] += counts[i];
  }
  if (!states.squeue_answered()) {
    notes +=
        "needle: squeue did not answer: running and queued tasks show "
        "as pending\n";
  }
  if (idle > 0) {
    notes += fmt::format(
        "needle: {} pending tasks are in no queue: run the same `needle run "
        "--executor slurm` command again to submit them\n",
        idle);
  }
  return table + notes +
         fmt::format(
             "needle: {} of {} tasks done, {} running, {} failed, {} "
             "pending\n",
             totals[0], totals[0] + totals[1] + totals[2] + totals[3],
             totals[1], totals[2], totals[3]);
}

}  // namespace needle
