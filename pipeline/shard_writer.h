#pragma once
// The graph's serial end: appends each batch's encoded bytes to its shard's
// outputs, and completes a shard when its last batch arrives.
//
// Outputs of a shard (all written through AtomicFile):
//   OUT/kept/<stem>.jsonl<.zst|.gz>       always, even when empty
//   OUT/rejected/<stem>.jsonl<.zst|.gz>   when write_rejected and non-empty
//   OUT/quarantine/<stem>.jsonl           when the shard had faults
//   OUT/done/<stem>.json                  last: the shard's record
// With dedup or tiers, kept and rejected go under OUT/staged/ instead, the
// dedup keys to OUT/dedup/keys/<stem>.bin (see pipeline/dedup_step.h) and,
// with tiers, the signals to OUT/signals/<stem>.bin.zst
// (pipeline/signal_store.h).
// Batches arrive in seq order, so one shard is open at a time.
//
// Completing a shard (fsync, rename, record) runs on its own thread while
// the next shard is written: an fsync waits tens of milliseconds for the
// disk, and the serial writer waiting would stall the whole graph.

#include <deque>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "pipeline/atomic_file.h"
#include "pipeline/batch.h"
#include "pipeline/graph.h"

namespace needle {

// Where a shard's outputs go; shared with the resume logic.
struct ShardPaths {
  std::string kept, rejected, quarantine, record;
  std::string keys;     // dedup keys (pipeline/dedup_step.h)
  std::string signals;  // stored signals (pipeline/signal_store.h)
};
// With `staged`, kept and rejected are the annotate step's outputs under
// OUT/staged/, which dedup's finalize step turns into the final ones.
ShardPaths PathsFor(const std::string& out_dir, const Shard& shard, Codec codec,
                    bool staged = false);

class ShardWriter {
 public:
  ShardWriter(const GraphPlan& plan, Codec codec, int level);
  ~ShardWriter();  // waits for completions still running, errors dropped
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  void Write(const Batch& batch);
  // Waits until every completed shard's outputs are durable under their
  // final names and its record is written; rethrows a completion's error.
  void Finish();

 private:
  void Open(const Shard& shard);
  void Complete(const Batch& batch);
  void WarnOnce(const Batch& batch);

  const GraphPlan& plan_;
  Codec codec_;
  int level_;
  ShardPaths paths_;
  std::unique_ptr<AtomicFile> kept_;
  std::unique_ptr<AtomicFile> rejected_;
  std::unique_ptr<AtomicFile> quarantine_;
  std::unique_ptr<AtomicFile> keys_;
  std::unique_ptr<AtomicFile> signals_;
  ShardCounters counters_;
  size_t open_shard_ = SIZE_MAX;
  ReasonCounts warned_{};  // per reason: already warned about
  uint64_t input_bytes_done_ = 0;
  uint64_t docs_done_ = 0;
  std::deque<std::future<void>> completions_;  // oldest first
};

}  // namespace needle
