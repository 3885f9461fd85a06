#include "pipeline/shard_writer.h"

#include <fmt/format.h>

#include <array>
#include <cstdio>

#include "pipeline/compress.h"
#include "pipeline/shard_record.h"

namespace needle {

ShardPaths PathsFor(const std::string& out_dir, const Shard& shard, Codec codec,
                    bool staged) {
  const std::string extension = std::string(".jsonl") + CodecExtension(codec);
  const std::string base = staged ? out_dir + "/staged" : out_dir;
  return {
      .kept = fmt::format("{}/kept/{}{}", base, shard.stem, extension),
      .rejected = fmt::format("{}/rejected/{}{}", base, shard.stem, extension),
      .quarantine = fmt::format("{}/quarantine/{}.jsonl", out_dir, shard.stem),
      .record = fmt::format("{}/done/{}.json", out_dir, shard.stem),
      .keys = fmt::format("{}/dedup/keys/{}.bin", out_dir, shard.stem),
      .signals = fmt::format("{}/signals/{}.bin.zst", out_dir, shard.stem),
  };
}

ShardWriter::ShardWriter(const GraphPlan& plan, Codec codec, int level)
    : plan_(plan), codec_(codec), level_(level) {
  input_bytes_done_ = plan.input_bytes_before;
}

void ShardWriter::Open(const Shard& shard) {
  const bool dedup = plan_.config->hasher != nullptr;
  const bool tiers = plan_.config->tiers.enabled;
  paths_ = PathsFor(plan_.out_dir, shard, codec_, dedup || tiers);
  // Outputs a previous run left for this shard would otherwise survive
  // where this run writes none (no rejects, no faults this time).
  std::remove(paths_.rejected.c_str());
  std::remove(paths_.quarantine.c_str());
  kept_ = std::make_unique<AtomicFile>(paths_.kept);
  if (dedup) keys_ = std::make_unique<AtomicFile>(paths_.keys);
  if (tiers) signals_ = std::make_unique<AtomicFile>(paths_.signals);
  counters_ = ShardCounters();
}

void ShardWriter::Write(const Batch& batch) {
  if (batch.shard_index != open_shard_) {
    Open(plan_.shards[batch.shard_index]);
    open_shard_ = batch.shard_index;
  }
  kept_->Append(batch.kept_bytes);
  if (keys_) keys_->Append(batch.dedup_records);
  if (signals_) signals_->Append(batch.signal_records);
  if (!batch.rejected_bytes.empty()) {
    if (!rejected_) rejected_ = std::make_unique<AtomicFile>(paths_.rejected);
    rejected_->Append(batch.rejected_bytes);
  }
  if (!batch.quarantine_bytes.empty()) {
    if (!quarantine_) {
      quarantine_ = std::make_unique<AtomicFile>(paths_.quarantine);
    }
    quarantine_->Append(batch.quarantine_bytes);
    if (plan_.warnings) WarnOnce(batch);
  }
  counters_.Add(batch.counters);
  docs_done_ += batch.counters.docs;
  if (batch.last_in_shard) {
    Complete(batch);
    input_bytes_done_ += plan_.shards[batch.shard_index].size_bytes;
    if (plan_.progress) plan_.progress->Update(input_bytes_done_, docs_done_);
  } else if (plan_.progress) {
    plan_.progress->Update(input_bytes_done_ + batch.raw_bytes_end, docs_done_);
  }
}

void ShardWriter::Complete(const Batch& batch) {
  const Shard& shard = plan_.shards[batch.shard_index];
  ShardRecord record;
  record.name = shard.name;
  record.path = shard.path;
  record.size_bytes = shard.size_bytes;
  record.mtime_ns = shard.mtime_ns;
  record.xxh3 = fmt::format("{:016x}", batch.shard_xxh3);
  record.codec = CodecName(batch.shard_codec);
  record.config_hash = plan_.config->hash;
  record.counters = counters_;
  if (kept_->bytes_appended() == 0) kept_->Append(EmptyStream(codec_, level_));
  // Two completions at most run behind the writer: enough to hide an
  // fsync, and an error surfaces within two shards.
  if (completions_.size() == 2) {
    completions_.front().get();
    completions_.pop_front();
  }
  completions_.push_back(
      std::async(std::launch::async,
                 [files = std::array{std::move(kept_), std::move(rejected_),
                                     std::move(quarantine_), std::move(keys_),
                                     std::move(signals_)},
                  record_path = paths_.record, record = std::move(record)] {
                   for (const auto& file : files) {
                     if (file) file->Commit();
                   }
                   // Written last: its presence is what marks the shard
                   // complete.
                   WriteFileAtomically(record_path, ShardRecordJson(record));
                 }));
  open_shard_ = SIZE_MAX;
}

void ShardWriter::Finish() {
  while (!completions_.empty()) {
    completions_.front().get();
    completions_.pop_front();
  }
}

ShardWriter::~ShardWriter() {
  for (std::future<void>& completion : completions_) {
    if (completion.valid()) completion.wait();
  }
}

// Datatrove's manner: say what is wrong, with a guess at why, the first
// time a cause appears; after that, count it silently.
void ShardWriter::WarnOnce(const Batch& batch) {
  const Shard& shard = plan_.shards[batch.shard_index];
  for (const Document& doc : batch.docs) {
    if (!IsQuarantineReason(doc.reason)) continue;
    uint64_t& warned = warned_[static_cast<int>(doc.reason)];
    if (warned++ > 0) continue;
    if (plan_.progress) plan_.progress->Finish();
    fmt::print(stderr,
               "needle: warning: {}:{}: {}: {} (quarantined; further {} "
               "lines are only counted)\n",
               shard.name, doc.line, ReasonName(doc.reason), doc.detail,
               ReasonName(doc.reason));
  }
}

}  // namespace needle
