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

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/batch.h"
#include "pipeline/run_config.h"
#include "pipeline/shard.h"
#include "pipeline/shard_record.h"

namespace needle {

// Step 1's part in the graph: appends one key record per ok document to
// batch->dedup_records. Parallel; `hasher` is shared read-only.
void AppendDedupRecords(const MinHasher& hasher, Batch* batch);

// Steps 2 and 3 for `shards`, whose annotate records are `annotated` (same
// order). Returns each shard's final record, in order.
std::vector<ShardRecord> DeduplicateShards(
    const RunConfig& config, std::span<const Shard> shards,
    const std::vector<ShardRecord>& annotated, const std::string& out_dir);

}  // namespace needle
