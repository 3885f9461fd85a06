#pragma once
// Serializes a batch into the bytes the writer appends: kept documents,
// rejected documents (when enabled) and quarantine entries, each already
// compressed as independent frames. Runs in parallel; counts each
// document's fate (kept, rejected, quarantined, by reason).
//
// A kept line is the input line unchanged up to its closing brace, then the
// generated id (only when the input had none) and one "needle" object:
//   {...original fields...,"needle":{"signals":{"chars":1234,...}}}
// so every original field passes through byte for byte. A rejected line
// adds "reason" and "stage" to the needle object. A quarantine entry is
//   {"shard":"a.jsonl.gz","line":48,"offset":9123,"reason":"bad_utf8",
//    "detail":"...","raw":"<first 4 KiB>"}
// with "raw_base64" instead of "raw" when the line is not valid UTF-8.

#include <string_view>

#include "pipeline/batch.h"
#include "pipeline/byte_source.h"
#include "pipeline/options.h"
#include "pipeline/run_config.h"

namespace needle {

struct EncodeOptions {
  std::string_view id_field;
  std::string_view text_field;  // replaced when a stage rewrote the text
  Codec codec = Codec::kZstd;
  int level = 1;
  bool write_rejected = false;
  bool store_signals = false;  // [tiers] enabled: fill signal_records
};

EncodeOptions MakeEncodeOptions(const RunConfig& config);

void EncodeBatch(const EncodeOptions& options, std::string_view shard_name,
                 Batch* batch);

}  // namespace needle
