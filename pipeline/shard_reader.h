#pragma once
// Splits one shard's decompressed bytes into batches of whole lines.
//
// The reader finds line ends itself, so a bad line can never swallow its
// neighbours, and memory stays bounded: a batch holds about batch_bytes of
// lines, and a line longer than max_line_bytes is never held whole (its
// first 4 KiB are kept for the quarantine entry, the rest is skipped).
// Faults it can see without parsing become documents with a reason set:
// line_too_long, truncated_stream / corrupt_stream (the cut last line) and
// unreadable_file. Blank lines are counted, not turned into documents.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pipeline/batch.h"
#include "pipeline/byte_source.h"
#include "pipeline/options.h"
#include "pipeline/shard.h"

namespace needle {

// How much of a faulty line a quarantine entry keeps.
inline constexpr size_t kQuarantineRawBytes = 4096;

class ShardReader {
 public:
  ShardReader(const Shard& shard, const InputOptions& options);

  // Fills `batch` with the next lines (raw, docs, counters.lines/bytes/
  // blank_lines). Returns false when this batch is the shard's last one;
  // it may then be empty.
  bool Next(Batch* batch);

  // Valid after the last batch.
  uint64_t raw_xxh3() const { return source_ ? source_->raw_xxh3() : 0; }
  Codec codec() const { return source_ ? source_->codec() : Codec::kPlain; }
  uint64_t raw_bytes_read() const {
    return source_ ? source_->raw_bytes_read() : 0;
  }

 private:
  bool Refill();
  void EndLine(std::string_view line, Reason reason, Batch* batch);

  const Shard& shard_;
  const InputOptions& options_;
  std::unique_ptr<ByteSource> source_;
  bool opened_ = false;

  std::string buffer_;  // decompressed bytes not yet split
  size_t buffer_pos_ = 0;
  size_t buffer_end_ = 0;
  bool at_end_ = false;

  std::string line_;         // the current line, when it spans refills
  uint64_t line_bytes_ = 0;  // its full length, also past what line_ keeps
  bool line_too_long_ = false;
  uint64_t line_number_ = 0;
  uint64_t offset_ = 0;  // decompressed offset of the current line
  // Per document: where its line starts in batch->raw, and its length.
  std::vector<std::pair<size_t, size_t>> line_starts_;
};

}  // namespace needle
