#include "pipeline/step_plan.h"

#include <fmt/format.h>
#include <oneapi/tbb/global_control.h>

#include <array>
#include <charconv>
#include <filesystem>

#include "pipeline/byte_source.h"
#include "pipeline/dedup_step.h"
#include "pipeline/encoder.h"
#include "pipeline/json_text.h"
#include "pipeline/run.h"
#include "pipeline/shard_writer.h"
#include "pipeline/tier_step.h"

namespace needle {
namespace {

namespace fs = std::filesystem;

constexpr std::array<std::string_view, 5> kStepNames = {
    "annotate", "cluster", "finalize", "tiers", "report"};

std::optional<fs::file_time_type> WriteTime(const std::string& path) {
  std::error_code error;
  const fs::file_time_type time = fs::last_write_time(path, error);
  if (error) return std::nullopt;
  return time;
}

// run.json and report.json written for this config after every marker the
// report reads from (a step redone since rewrites its marker).
bool IsReported(const RunConfig& config, std::span<const Shard> shards,
                const std::string& out_dir) {
  const std::optional<fs::file_time_type> reported =
      WriteTime(out_dir + "/run.json");
  if (!reported || !fs::exists(out_dir + "/report.json")) return false;
  std::string hash_field = ",\"hash\":";
  AppendJsonString(config.hash, &hash_field);
  if (ReadFileOrEmpty(out_dir + "/run.json").find(hash_field) ==
      std::string::npos) {
    return false;
  }
  const Codec codec = MakeEncodeOptions(config).codec;
  std::vector<std::string> markers = {out_dir + "/dedup/done.txt",
                                      out_dir + "/tiers/funnel.json"};
  for (const Shard& shard : shards) {
    markers.push_back(PathsFor(out_dir, shard, codec).record);
  }
  for (const std::string& marker : markers) {
    const std::optional<fs::file_time_type> time = WriteTime(marker);
    if (time && *time > *reported) return false;
  }
  return true;
}

}  // namespace

std::string_view StepName(StepKind kind) {
  return kStepNames[static_cast<size_t>(kind)];
}

std::optional<StepKind> ParseStepName(std::string_view name) {
  for (size_t i = 0; i < kStepNames.size(); ++i) {
    if (kStepNames[i] == name) return static_cast<StepKind>(i);
  }
  return std::nullopt;
}

bool IsPerShard(StepKind kind) {
  return kind == StepKind::kAnnotate || kind == StepKind::kFinalize;
}

std::vector<size_t> StepTasks::Missing() const {
  std::vector<size_t> missing;
  for (size_t i = 0; i < done.size(); ++i) {
    if (!done[i]) missing.push_back(i);
  }
  return missing;
}

std::vector<StepTasks> PlanSteps(const RunConfig& config,
                                 std::span<const Shard> shards,
                                 const std::string& out_dir) {
  std::vector<StepTasks> steps;
  bool before_done = true;  // every task of every step so far
  auto add = [&](StepKind kind, auto&& is_done) {
    StepTasks& step = steps.emplace_back();
    step.kind = kind;
    step.done.assign(IsPerShard(kind) ? shards.size() : 1, false);
    for (size_t i = 0; i < step.done.size(); ++i) {
      step.done[i] = is_done(i);
    }
    for (const bool done : step.done) before_done = before_done && done;
  };

  add(StepKind::kAnnotate,
      [&](size_t i) { return IsAnnotated(config, out_dir, shards[i]); });
  std::vector<ShardRecord> annotated;
  std::string cluster_hash;
  if (before_done) {
    annotated = ReadAnnotateRecords(config, out_dir, shards);
    cluster_hash = ClusterInputsHash(annotated);
  }
  if (config.hasher) {
    add(StepKind::kCluster, [&](size_t) {
      return before_done && IsClustered(out_dir, cluster_hash);
    });
    add(StepKind::kFinalize, [&](size_t i) {
      return before_done &&
             ReadFinalRecord(out_dir, shards[i], annotated[i], cluster_hash)
                 .has_value();
    });
  }
  if (config.tiers.enabled) {
    add(StepKind::kTiers, [&](size_t) {
      return before_done && TierShardsDone(config, shards, out_dir);
    });
  }
  add(StepKind::kReport, [&](size_t) {
    return before_done && IsReported(config, shards, out_dir);
  });
  return steps;
}

std::string ArrayRanges(std::span<const size_t> tasks) {
  std::string out;
  for (size_t i = 0; i < tasks.size();) {
    size_t end = i;
    while (end + 1 < tasks.size() && tasks[end + 1] == tasks[end] + 1) ++end;
    out += out.empty() ? "" : ",";
    out += end == i ? fmt::format("{}", tasks[i])
                    : fmt::format("{}-{}", tasks[i], tasks[end]);
    i = end + 1;
  }
  return out;
}

std::vector<size_t> ParseArrayRanges(std::string_view text) {
  std::vector<size_t> tasks;
  auto bad = [&] {
    return std::runtime_error(
        fmt::format("expected task ranges like 0-2,5, got \"{}\"", text));
  };
  auto number = [&](std::string_view digits) {
    size_t value = 0;
    const auto [end, error] =
        std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc() || end != digits.data() + digits.size()) {
      throw bad();
    }
    return value;
  };
  for (size_t start = 0; start <= text.size();) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view range = text.substr(start, end - start);
    const size_t dash = range.find('-');
    const size_t first = number(range.substr(0, dash));
    const size_t last =
        dash == std::string_view::npos ? first : number(range.substr(dash + 1));
    if (last < first) throw bad();
    for (size_t t = first; t <= last; ++t) tasks.push_back(t);
    start = end + 1;
  }
  return tasks;
}

StepResult RunStep(const RunConfig& config, const RunRequest& request,
                   StepKind step, std::optional<size_t> task,
                   const std::vector<size_t>& resumed) {
  if ((step == StepKind::kCluster || step == StepKind::kFinalize) &&
      !config.hasher) {
    throw std::runtime_error(
        fmt::format("step {} needs [dedup] enabled = true in {}",
                    StepName(step), config.path));
  }
  if (step == StepKind::kTiers && !config.tiers.enabled) {
    throw std::runtime_error(fmt::format(
        "step tiers needs [tiers] enabled = true in {}", config.path));
  }
  const std::vector<Shard> shards = FindShards(request.inputs);
  std::vector<size_t> tasks;
  if (task) {
    if (*task >= shards.size()) {
      throw std::runtime_error(
          fmt::format("task {}: the run has {} shards (tasks 0 to {})", *task,
                      shards.size(), shards.size() - 1));
    }
    tasks.push_back(*task);
  } else {
    for (size_t i = 0; i < shards.size(); ++i) tasks.push_back(i);
  }
  oneapi::tbb::global_control threads(
      oneapi::tbb::global_control::max_allowed_parallelism, request.threads);
  const std::string_view name = StepName(step);
  StepResult result;
  auto say = [&](std::string_view what, bool ran) {
    result.text += fmt::format("needle: {} {}: {}\n", name, what,
                               ran ? "done" : "was done");
  };
  switch (step) {
    case StepKind::kAnnotate: {
      const std::vector<bool> was_done =
          RunAnnotate(config, request, shards, tasks);
      for (size_t k = 0; k < tasks.size(); ++k) {
        say(fmt::format("{} (task {})", shards[tasks[k]].name, tasks[k]),
            !was_done[k]);
      }
      break;
    }
    case StepKind::kCluster:
      say(fmt::format("{} shards", shards.size()),
          RunCluster(config, request, shards));
      break;
    case StepKind::kFinalize:
      for (const size_t t : tasks) {
        say(fmt::format("{} (task {})", shards[t].name, t),
            RunFinalize(config, request, shards, t));
      }
      break;
    case StepKind::kTiers: {
      const std::optional<std::string> funnel =
          RunTiers(config, request, shards);
      if (funnel) result.text += *funnel;
      say(fmt::format("{} shards", shards.size()), funnel.has_value());
      break;
    }
    case StepKind::kReport: {
      std::vector<bool> was_done(shards.size(), false);
      for (const size_t t : resumed) {
        if (t < shards.size()) was_done[t] = true;
      }
      result.outcome = RunReport(config, request, shards, was_done);
      break;
    }
  }
  return result;
}

}  // namespace needle
