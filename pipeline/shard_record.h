#pragma once
// The marker a completed shard leaves at OUT/done/<stem>.json.
//
// It is written last, after the shard's outputs were renamed into place, so
// its presence means the shard is complete. It carries what a resumed run
// needs to skip the shard (input size and mtime, config hash) and to
// rebuild run.json without re-reading it (checksum, codec, counters).

#include <optional>
#include <string>

#include "pipeline/counters.h"

namespace needle {

struct ShardRecord {
  std::string name;
  std::string path;
  uint64_t size_bytes = 0;
  int64_t mtime_ns = 0;
  std::string xxh3;         // 16 hex digits, of the raw file bytes
  std::string codec;        // as sniffed: none, gzip, zstd
  std::string config_hash;  // of the resolved config that produced it
  ShardCounters counters;
};

// Appends counters as a JSON object (the run.json "counts" shape).
void AppendCountersJson(const ShardCounters& counters, std::string* out);

std::string ShardRecordJson(const ShardRecord& record);

// nullopt when the file is missing or not a record this version wrote.
std::optional<ShardRecord> ReadShardRecord(const std::string& path);

}  // namespace needle
