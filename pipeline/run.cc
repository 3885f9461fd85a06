#include "pipeline/run.h"

#include <fmt/format.h>
#include <oneapi/tbb/global_control.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "pipeline/atomic_file.h"
#include "pipeline/dedup_step.h"
#include "pipeline/encoder.h"
#include "pipeline/graph.h"
#include "pipeline/json_text.h"
#include "pipeline/shard_record.h"
#include "pipeline/shard_writer.h"
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
                    double wall_seconds) {
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
    std::ifstream stats(request.out_dir + "/dedup/stats.json");
    std::stringstream text;
    text << stats.rdbuf();
    out += ",\n\"dedup\":" + text.str();
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

}  // namespace

const char* NeedleVersion() { return NEEDLE_VERSION; }

RunOutcome RunPipeline(const RunConfig& config, const RunRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<Shard> shards = FindShards(request.inputs);
  const Codec codec = MakeEncodeOptions(config).codec;

  std::vector<Shard> todo;
  std::vector<bool> resumed(shards.size(), false);
  uint64_t total_bytes = 0;
  uint64_t done_bytes = 0;
  for (size_t i = 0; i < shards.size(); ++i) {
    const Shard& shard = shards[i];
    total_bytes += shard.size_bytes;
    const std::string record_path =
        PathsFor(request.out_dir, shard, codec).record;
    if (IsCompleteFor(ReadShardRecord(record_path), shard, config)) {
      resumed[i] = true;
      done_bytes += shard.size_bytes;
    } else {
      // Not complete for this config and input: it is redone whole.
      std::remove(record_path.c_str());
      todo.push_back(shard);
    }
  }

  // Bounds every TBB parallel section in this run, the graph's included.
  oneapi::tbb::global_control threads(
      oneapi::tbb::global_control::max_allowed_parallelism, request.threads);
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

  RunOutcome outcome;
  outcome.shards = shards.size();
  std::vector<ShardRecord> records;
  for (size_t i = 0; i < shards.size(); ++i) {
    const std::string record_path =
        PathsFor(request.out_dir, shards[i], codec).record;
    std::optional<ShardRecord> record = ReadShardRecord(record_path);
    if (!record) {
      throw std::runtime_error(
          fmt::format("{}: shard record missing after the run", record_path));
    }
    outcome.shards_resumed += resumed[i];
    records.push_back(std::move(*record));
  }
  if (config.hasher) {
    records = DeduplicateShards(config, shards, records, request.out_dir);
  }
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
      RunJson(config, request, records, resumed, outcome, wall));
  return outcome;
}

}  // namespace needle
