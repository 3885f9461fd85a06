#include "pipeline/shard_reader.h"

#include <simdjson.h>

#include <cstring>

namespace needle {
namespace {

constexpr size_t kReadChunkBytes = 1 << 20;

bool IsBlank(std::string_view line) {
  for (const char c : line) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

}  // namespace

ShardReader::ShardReader(const Shard& shard, const InputOptions& options)
    : shard_(shard), options_(options) {}

bool ShardReader::Refill() {
  if (at_end_) return false;
  buffer_.resize(kReadChunkBytes);
  buffer_pos_ = 0;
  buffer_end_ = source_->Read(buffer_.data(), buffer_.size());
  if (buffer_end_ == 0) at_end_ = true;
  return buffer_end_ > 0;
}

// Appends `line` (the whole line, or the first 4 KiB of an over-long one)
// to the batch as a document with `reason` (kOk: still to be parsed).
void ShardReader::EndLine(std::string_view line, Reason reason, Batch* batch) {
  ++line_number_;
  ++batch->counters.lines;
  const uint64_t line_offset = offset_;
  offset_ += line_bytes_ + 1;
  if (line_too_long_) reason = Reason::kLineTooLong;
  if (reason == Reason::kOk && IsBlank(line)) {
    ++batch->counters.blank_lines;
  } else {
    Document doc;
    doc.line = line_number_;
    doc.offset = line_offset;
    doc.reason = reason;
    // raw may still grow and move: record where the line starts for now.
    line_starts_.push_back({batch->raw.size(), line.size()});
    batch->raw += line;
    batch->raw += '\n';
    batch->docs.push_back(doc);
  }
  line_.clear();
  line_bytes_ = 0;
  line_too_long_ = false;
}

bool ShardReader::Next(Batch* batch) {
  batch->raw.clear();
  // One allocation per batch instead of a doubling series: the churn of
  // regrown multi-MiB buffers showed as page faults and system time.
  batch->raw.reserve(options_.batch_bytes + (64 << 10));
  batch->docs.clear();
  line_starts_.clear();
  if (!opened_) {
    opened_ = true;
    std::string error;
    source_ = ByteSource::Open(shard_.path, &error);
    if (source_ == nullptr) {
      Document doc;
      doc.reason = Reason::kUnreadableFile;
      doc.detail = Own(batch, error);
      batch->docs.push_back(doc);
      return false;
    }
  }
  bool more = true;
  while (batch->raw.size() < options_.batch_bytes) {
    if (buffer_pos_ == buffer_end_ && !Refill()) {
      more = false;
      break;
    }
    const char* start = buffer_.data() + buffer_pos_;
    const size_t available = buffer_end_ - buffer_pos_;
    const auto* newline =
        static_cast<const char*>(std::memchr(start, '\n', available));
    const size_t piece =
        newline ? static_cast<size_t>(newline - start) : available;
    if (!line_too_long_ && line_bytes_ + piece > options_.max_line_bytes) {
      // From here on only the quarantine entry's share is kept.
      line_too_long_ = true;
      if (line_.size() > kQuarantineRawBytes) line_.resize(kQuarantineRawBytes);
    }
    const bool whole_line_here = newline && line_bytes_ == 0 && !line_too_long_;
    if (whole_line_here) {
      // The common case: the line lies in the buffer; copy it only once.
      line_bytes_ = piece;
      batch->counters.bytes += piece + 1;
      buffer_pos_ += piece + 1;
      EndLine(std::string_view(start, piece), Reason::kOk, batch);
      continue;
    }
    if (line_too_long_) {
      // Keep only what the quarantine entry shows.
      if (line_.size() < kQuarantineRawBytes) {
        line_.append(start,
                     std::min(piece, kQuarantineRawBytes - line_.size()));
      }
    } else {
      line_.append(start, piece);
    }
    line_bytes_ += piece;
    batch->counters.bytes += piece;
    buffer_pos_ += piece;
    if (newline != nullptr) {
      ++buffer_pos_;
      ++batch->counters.bytes;
      EndLine(line_, Reason::kOk, batch);
    }
  }
  if (!more) {
    const std::string& fault = source_->fault();
    if (!fault.empty()) {
      // The stream broke: whatever is in line_ was cut short. Record the
      // fault even when it fell exactly between lines.
      EndLine(line_,
              fault.starts_with("truncated") ? Reason::kTruncatedStream
                                             : Reason::kCorruptStream,
              batch);
      batch->docs.back().detail = Own(batch, fault);
    } else if (line_bytes_ > 0) {
      EndLine(line_, Reason::kOk, batch);  // a last line without '\n'
    }
  }
  // raw is final once padded (simdjson may then read past the last line
  // without a copy): turn the recorded starts into views.
  batch->raw.append(simdjson::SIMDJSON_PADDING, ' ');
  size_t next_start = 0;
  for (Document& doc : batch->docs) {
    if (doc.reason == Reason::kUnreadableFile) continue;
    const auto [begin, size] = line_starts_[next_start++];
    doc.raw = std::string_view(batch->raw).substr(begin, size);
  }
  line_starts_.clear();
  batch->raw_bytes_end = source_->raw_bytes_read();
  return more;
}

}  // namespace needle
