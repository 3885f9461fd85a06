#pragma once
// Deduplication across a whole run, in the steps issue 5 asks for. They meet
// only through files in OUT, so the same steps can later run as separate
// cluster jobs:
//
//  1. annotate (the flow graph, per shard): documents that pass the stages
//     go to OUT/staged/<stem>.jsonl.zst, and their keys (exact hash, band
//     buckets, id, length, quality) to OUT/dedup/keys/<stem>.bin.
//  2. cluster (global): every shard's keys, numbered in input order, go
//     through DedupIndex; one decision per staged document is written to
//     OUT/dedup/decisions/<stem>.bin.
//  3. finalize (per shard): staged documents are copied to kept/ with
//     needle.signals.dup_count, or to rejected/ as exact_duplicate or
//     near_duplicate with needle.duplicate_of; the shard's final record
//     (OUT/final/<stem>.json) adds the dedup counts to the annotate ones.
//
// Each step leaves a marker and is skipped on a re-run when its inputs are
// unchanged, so a resumed run ends byte-identical to an uninterrupted one.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/batch.h"
#include "pipeline/run_config.h"
#include "pipeline/shard.h"
#include "pipeline/shard_record.h"

namespace needle {

// What dedup decided for one staged document.
struct DedupFate {
  Reason reason = Reason::kOk;  // or kExactDuplicate, kNearDuplicate
  uint64_t cluster_size = 1;    // dup_count: documents in its cluster
  std::string duplicate_of;     // the kept document's id, when removed
};

// The cluster step's decisions for the staged documents of `shard`, in
// order. Throws when the decision file is missing or damaged.
std::vector<DedupFate> ReadDedupFates(const std::string& out_dir,
                                      const Shard& shard);

// The staged line with dup_count in its signals and, for a removed
// duplicate, reason, stage and duplicate_of in its needle object.
void AppendWithDedupFate(std::string_view line, const DedupFate& fate,
                         std::string* out);

// Step 1's part in the graph: appends one key record per ok document to
// batch->dedup_records. Parallel; `hasher` is shared read-only.
void AppendDedupRecords(const MinHasher& hasher, Batch* batch);

// The hash of step 2's inputs, which its marker OUT/dedup/done.txt holds:
// a changed annotate record redoes the clustering.
std::string ClusterInputsHash(const std::vector<ShardRecord>& annotated);

// Whether step 2 is done for the inputs `cluster_hash` names.
bool IsClustered(const std::string& out_dir, const std::string& cluster_hash);

// Step 2 alone, unless IsClustered(); returns whether it clustered.
bool ClusterShards(const RunConfig& config, std::span<const Shard> shards,
                   const std::string& out_dir, const std::string& cluster_hash);

// Step 3's record of `shard` (OUT/final/<stem>.json) when step 3 is done
// for this annotate record and clustering, else nullopt.
std::optional<ShardRecord> ReadFinalRecord(const std::string& out_dir,
                                           const Shard& shard,
                                           const ShardRecord& annotated,
                                           const std::string& cluster_hash);

// Step 3 alone for one shard, unless ReadFinalRecord() finds it done;
// returns the shard's final record. Step 2 must be done.
ShardRecord FinalizeShard(const RunConfig& config, const Shard& shard,
                          const ShardRecord& annotated,
                          const std::string& out_dir,
                          const std::string& cluster_hash,
                          bool write_outputs = true);

// Steps 2 and 3 for `shards`, whose annotate records are `annotated` (same
// order). Returns each shard's final record, in order. With `write_outputs`
// false (tiers write the documents instead) it only counts.
std::vector<ShardRecord> DeduplicateShards(
    const RunConfig& config, std::span<const Shard> shards,
    const std::vector<ShardRecord>& annotated, const std::string& out_dir,
    bool write_outputs = true);

}  // namespace needle
