#pragma once
// Every signal of every parsed document, stored with the run so that tiers
// and thresholds can be re-applied (`needle tune`) without re-reading text
// or re-running language ID, dedup or tokenization.
//
// OUT/signals/<stem>.bin.zst holds one record per parsed document, in input
// order: whether it passed every stage, its reason, its text bytes and its
// signals. Records are little-endian binary, one zstd frame per batch; the
// keys repeat per document and zstd folds them away (about a tenth of the
// raw record size on the sample run).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/batch.h"
#include "pipeline/byte_source.h"

namespace needle {

// Appends the records of the batch's parsed documents to `out`, plain.
void AppendSignalRecords(const Batch& batch, std::string* out);

struct StoredDocument {
  bool passed_stages = false;  // in staged/kept, else staged/rejected
  Reason reason = Reason::kOk;
  uint64_t text_bytes = 0;
  std::vector<Signal> signals;  // keys view the reader's buffer
};

// Reads a shard's records back, one document at a time.
class SignalStoreReader {
 public:
  // Throws std::runtime_error naming the path when it cannot be opened.
  explicit SignalStoreReader(const std::string& path);
  // False at the end; throws on a damaged record.
  bool Next(StoredDocument* doc);

 private:
  bool Fill(size_t bytes);

  std::string path_;
  std::unique_ptr<ByteSource> source_;
  std::string buffer_;
  size_t at_ = 0;
  std::vector<std::string> keys_;  // stable storage for signal keys
};

}  // namespace needle
