#include "pipeline/run.h"

#include <fmt/format.h>
#include <oneapi/tbb/global_control.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>

#include "pipeline/atomic_file.h"
#include "pipeline/byte_source.h"
#include "pipeline/dedup_step.h"
#include "pipeline/encoder.h"
#include "pipeline/graph.h"
#include "pipeline/json_text.h"
#include "pipeline/report.h"
#include "pipeline/shard_record.h"
#include "pipeline/shard_writer.h"
#include "pipeline/tier_step.h"
#include "pipeline/version.h"

namespace needle {
namespace {

bool IsCompleteFor(const std::optional<ShardRecord>& record, const Shard& shard,
                   const RunConfig& config) {
  return record && record->config_hash == config.hash &&
         record->size_bytes == shard.size_bytes &&
         record->mtime_ns == shard.mtime_ns && record->name == shard.name;
}

double Seconds(const timeval& t) {
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
}

std::string RunJson(const RunConfig& config, const RunRequest& request,
                    const std::vector<ShardRecord>& records,
                    const std::vector<bool>& resumed, const RunOutcome& outcome,
                    const std::string& funnel_json, double wall_seconds) {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::string out = "{\n\"format\":\"needle.run/1\",\n\"version\":";
  AppendJsonString(NeedleVersion(), &out);
  out += ",\n\"command\":";
  AppendJsonString(request.command_line, &out);
  out += ",\n\"config\":{\"path\":";
  AppendJsonString(config.path, &out);
  out += ",\"hash\":";
  AppendJsonString(config.hash, &out);
  out += ",\"resolved\":";
  AppendJsonString(config.resolved_toml, &out);
  out += "},\n\"inputs\":[";
  for (size_t i = 0; i < records.size(); ++i) {
    const ShardRecord& r = records[i];
    out += i ? ",\n " : "\n ";
    out += "{\"name\":";
    AppendJsonString(r.name, &out);
    out += ",\"path\":";
    AppendJsonString(r.path, &out);
    fmt::format_to(std::back_inserter(out),
                   ",\"size_bytes\":{},\"xxh3\":\"{}\",\"codec\":\"{}\","
                   "\"resumed\":{},\"counts\":",
                   r.size_bytes, r.xxh3, r.codec,
                   resumed[i] ? "true" : "false");
    AppendCountersJson(r.counters, &out);
    out += "}";
  }
  out += "],\n\"counts\":";
  AppendCountersJson(outcome.totals, &out);
  if (config.hasher) {
    // Written by the cluster step (pipeline/dedup_step.cc).
    out += ",\n\"dedup\":" +
           ReadFileOrEmpty(request.out_dir + "/dedup/stats.json");
  }
  if (!funnel_json.empty()) {
    // {"tiers":[...],"below_first_tier":{...},...} spliced in as fields.
    out += ",\n" + funnel_json.substr(1, funnel_json.size() - 2);
  }
  fmt::format_to(std::back_inserter(out),
                 ",\n\"error_rate\":{:.6f},\n\"max_error_rate\":{},\n"
                 "\"timing\":{{\"threads\":{},\"wall_seconds\":{:.3f},"
                 "\"user_cpu_seconds\":{:.3f},\"system_cpu_seconds\":{:.3f},"
                 "\"peak_rss_bytes\":{}}}\n}}\n",
                 outcome.error_rate, outcome.max_error_rate, request.threads,
                 wall_seconds, Seconds(usage.ru_utime), Seconds(usage.ru_stime),
                 static_cast<uint64_t>(usage.ru_maxrss) * 1024);
  return out;
}

// Step 5's work, once the records and the funnel are known: run.json from
// them, then the report from run.json as written, so that `needle budget`
// rebuilds it the same.
RunOutcome FinishRun(const RunConfig& config, const RunRequest& request,
                     const std::vector<ShardRecord>& records,
                     const std::vector<bool>& resumed,
                     const std::string& funnel_json,
                     std::chrono::steady_clock::time_point start) {
  RunOutcome outcome;
  outcome.shards = records.size();
  outcome.shards_resumed = std::count(resumed.begin(), resumed.end(), true);
  for (const ShardRecord& record : records) {
    outcome.totals.Add(record.counters);
  }
  const ShardCounters& t = outcome.totals;
  const uint64_t non_blank = t.lines - t.blank_lines;
  outcome.error_rate = non_blank > 0 ? static_cast<double>(t.quarantined) /
                                           static_cast<double>(non_blank)
                                     : 0.0;
  outcome.max_error_rate =
      request.max_error_rate.value_or(config.pipeline.max_error_rate);
  outcome.error_rate_exceeded = outcome.error_rate > outcome.max_error_rate;

  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  WriteFileAtomically(
      request.out_dir + "/run.json",
      RunJson(config, request, records, resumed, outcome, funnel_json, wall));
  WriteReport(request.out_dir, config.budget);
  return outcome;
}

// The cluster step's hash for the run's annotate records; throws unless
// step 2 is done for them.
std::string ClusteredHash(const std::vector<ShardRecord>& annotated,
                          const std::string& out_dir) {
  std::string cluster_hash = ClusterInputsHash(annotated);
  if (!IsClustered(out_dir, cluster_hash)) {
    throw std::runtime_error(fmt::format(
        "{}/dedup/done.txt: step cluster is not done for these shards",
        out_dir));
  }
  return cluster_hash;
}

}  // namespace

const char* NeedleVersion() { return NEEDLE_VERSION; }

std::vector<bool> RunAnnotate(const RunConfig& config,
                              const RunRequest& request,
                              std::span<const Shard> shards,
                              std::span<const size_t> indices) {
  const Codec codec = MakeEncodeOptions(config).codec;
  std::vector<Shard> todo;
  std::vector<bool> resumed(indices.size(), false);
  uint64_t total_bytes = 0;
  uint64_t done_bytes = 0;
  for (size_t k = 0; k < indices.size(); ++k) {
    if (indices[k] >= shards.size()) {
      throw std::runtime_error(
          fmt::format("task {}: the run has {} shards (tasks 0 to {})",
                      indices[k], shards.size(), shards.size() - 1));
    }
    const Shard& shard = shards[indices[k]];
    total_bytes += shard.size_bytes;
    const std::string record_path =
        PathsFor(request.out_dir, shard, codec).record;
    if (IsCompleteFor(ReadShardRecord(record_path), shard, config)) {
      resumed[k] = true;
      done_bytes += shard.size_bytes;
    } else {
      // Not complete for this config and input: it is redone whole.
      std::remove(record_path.c_str());
      todo.push_back(shard);
    }
  }

  Progress progress(total_bytes, request.progress && !request.quiet);
  GraphPlan plan;
  plan.config = &config;
  plan.shards = todo;
  plan.out_dir = request.out_dir;
  plan.threads = request.threads;
  plan.warnings = !request.quiet;
  plan.progress = &progress;
  plan.input_bytes_before = done_bytes;
  RunGraph(plan);
  progress.Finish();
  return resumed;
}

bool IsAnnotated(const RunConfig& config, const std::string& out_dir,
                 const Shard& shard) {
  const Codec codec = MakeEncodeOptions(config).codec;
  return IsCompleteFor(ReadShardRecord(PathsFor(out_dir, shard, codec).record),
                       shard, config);
}

std::vector<ShardRecord> ReadAnnotateRecords(const RunConfig& config,
                                             const std::string& out_dir,
                                             std::span<const Shard> shards) {
  const Codec codec = MakeEncodeOptions(config).codec;
  std::vector<ShardRecord> records;
  for (size_t i = 0; i < shards.size(); ++i) {
    const std::string path = PathsFor(out_dir, shards[i], codec).record;
    std::optional<ShardRecord> record = ReadShardRecord(path);
    if (!IsCompleteFor(record, shards[i], config)) {
      throw std::runtime_error(
          fmt::format("{}: step annotate is not done for {} (task {})", path,
                      shards[i].name, i));
    }
    records.push_back(std::move(*record));
  }
  return records;
}

bool RunCluster(const RunConfig& config, const RunRequest& request,
                std::span<const Shard> shards) {
  const std::vector<ShardRecord> annotated =
      ReadAnnotateRecords(config, request.out_dir, shards);
  return ClusterShards(config, shards, request.out_dir,
                       ClusterInputsHash(annotated));
}

bool RunFinalize(const RunConfig& config, const RunRequest& request,
                 std::span<const Shard> shards, size_t index) {
  const std::vector<ShardRecord> annotated =
      ReadAnnotateRecords(config, request.out_dir, shards);
  const std::string cluster_hash = ClusteredHash(annotated, request.out_dir);
  if (ReadFinalRecord(request.out_dir, shards[index], annotated[index],
                      cluster_hash)) {
    return false;
  }
  FinalizeShard(config, shards[index], annotated[index], request.out_dir,
                cluster_hash, /*write_outputs=*/!config.tiers.enabled);
  return true;
}

std::optional<std::string> RunTiers(const RunConfig& config,
                                    const RunRequest& request,
                                    std::span<const Shard> shards) {
  if (config.hasher) {
    ClusteredHash(ReadAnnotateRecords(config, request.out_dir, shards),
                  request.out_dir);
  }
  if (TierShardsDone(config, shards, request.out_dir)) return std::nullopt;
  return TierFunnelText(TierShards(config, shards, request.out_dir, true));
}

RunOutcome RunReport(const RunConfig& config, const RunRequest& request,
                     std::span<const Shard> shards,
                     const std::vector<bool>& resumed) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<ShardRecord> records =
      ReadAnnotateRecords(config, request.out_dir, shards);
  if (config.hasher) {
    const std::string cluster_hash = ClusteredHash(records, request.out_dir);
    for (size_t i = 0; i < shards.size(); ++i) {
      std::optional<ShardRecord> done =
          ReadFinalRecord(request.out_dir, shards[i], records[i], cluster_hash);
      if (!done) {
        throw std::runtime_error(fmt::format(
            "step finalize is not done for {} (task {})", shards[i].name, i));
      }
      records[i] = std::move(*done);
    }
  }
  std::string funnel_json;
  if (config.tiers.enabled) {
    if (!TierShardsDone(config, shards, request.out_dir)) {
      throw std::runtime_error("step tiers is not done for these shards");
    }
    funnel_json = ReadFileOrEmpty(request.out_dir + "/tiers/funnel.json");
    funnel_json.pop_back();  // the newline TierShards adds
  }
  std::vector<bool> was_resumed = resumed;
  was_resumed.resize(shards.size(), false);
  return FinishRun(config, request, records, was_resumed, funnel_json, start);
}

RunOutcome RunPipeline(const RunConfig& config, const RunRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<Shard> shards = FindShards(request.inputs);
  // Bounds every TBB parallel section in this run, the graph's included.
  oneapi::tbb::global_control threads(
      oneapi::tbb::global_control::max_allowed_parallelism, request.threads);
  std::vector<size_t> all(shards.size());
  std::iota(all.begin(), all.end(), size_t{0});
  const std::vector<bool> resumed = RunAnnotate(config, request, shards, all);
  std::vector<ShardRecord> records =
      ReadAnnotateRecords(config, request.out_dir, shards);
  if (config.hasher) {
    records = DeduplicateShards(config, shards, records, request.out_dir,
                                /*write_outputs=*/!config.tiers.enabled);
  }
  std::string funnel_json;
  std::string funnel_text;
  if (config.tiers.enabled) {
    const TierFunnel funnel =
        TierShards(config, shards, request.out_dir, /*write=*/true);
    funnel_json = TierFunnelJson(funnel);
    funnel_text = TierFunnelText(funnel);
  }
  RunOutcome outcome =
      FinishRun(config, request, records, resumed, funnel_json, start);
  outcome.funnel = std::move(funnel_text);
  return outcome;
}

}  // namespace needle
