#pragma once
// The run-wide config sections: [input], [output], [pipeline]. Defaults live
// here and only here; configs/default.toml is generated from them.

#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/config.h"

namespace needle {

struct InputOptions {
  std::string text_field = "text";
  std::string id_field = "id";
  uint64_t max_line_bytes = 64ull << 20;
  uint64_t batch_bytes = 2ull << 20;

  void Visit(ConfigSection& s) {
    s.Field("text_field", &text_field,
            "JSON field holding the document text (a string; other types are "
            "quarantined as text_not_string).");
    s.Field("id_field", &id_field,
            "JSON field holding the document id; a document without one gets "
            "\"<shard>:<line>\", written back under this name.");
    s.Field("max_line_bytes", &max_line_bytes,
            "Longest line read, in bytes; longer lines are quarantined as "
            "line_too_long with their first 4 KiB.",
            1, 1ull << 32);
    s.Field("batch_bytes", &batch_bytes,
            "Decompressed bytes per batch, the unit of parallel work; memory "
            "in flight is about 2 x threads x batch_bytes.",
            4096, 1ull << 30);
  }
};

struct OutputOptions {
  std::string codec = "zstd";
  // zstd 1 keeps the writer at ~300 MB/s per core; level 3 compresses 9%
  // smaller at two thirds of that speed (bench/README.md).
  int level = 1;
  bool write_rejected = false;

  void Visit(ConfigSection& s) {
    s.Choice("codec", &codec, {"zstd", "gzip", "none"},
             "Compression of kept/ and rejected/ shards.");
    s.Field("level", &level,
            "Compression level: zstd 1 (fastest) to 19, gzip 1 to 9; ignored "
            "for none.",
            1, 19);
    s.Field("write_rejected", &write_rejected,
            "Also write documents that a stage rejected to rejected/, with "
            "needle.reason set.");
  }
};

struct PipelineOptions {
  std::vector<std::string> stages = {"doc_length"};
  double max_error_rate = 1.0;

  void Visit(ConfigSection& s) {
    s.Field("stages", &stages,
            "Stages to run, in order; `needle stages list` shows them. Each "
            "reads its options from the section of the same name.");
    s.Field("max_error_rate", &max_error_rate,
            "Exit non-zero when quarantined lines / non-blank lines exceeds "
            "this fraction; 1.0 never fails. --max-error-rate overrides it.",
            0.0, 1.0);
  }
};

}  // namespace needle
