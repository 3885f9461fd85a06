#pragma once
// For benchmarks that time a stage the way the flow graph runs it, on one
// and on two threads, against a command-line tool on the same text.

#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "pipeline/batch.h"
#include "stages/stage.h"

namespace needle::bench {

using DocumentBatches = std::vector<std::vector<Document>>;

// Batches of about 256 KiB: smaller than the pipeline's 2 MiB, so that a few
// MB split over two threads ends evenly and the scaling measured is the
// stage's, not the last batch's. The documents view `texts`.
inline DocumentBatches MakeBatches(const std::vector<std::string>& texts) {
  constexpr size_t kBatchBytes = 256 << 10;
  DocumentBatches batches;
  size_t in_batch = kBatchBytes;
  for (const std::string& text : texts) {
    if (in_batch >= kBatchBytes) {
      batches.emplace_back();
      in_batch = 0;
    }
    Document doc;
    doc.text = text;
    batches.back().push_back(doc);
    in_batch += text.size();
  }
  return batches;
}

// Processes every batch on `arena`'s threads, as the flow graph does: TBB
// threads that live across runs, each keeping its buffers. The documents
// are reset first, as fresh documents, signals unallocated.
inline void RunStage(const Stage& stage, DocumentBatches& batches,
                     oneapi::tbb::task_arena& arena) {
  for (auto& batch : batches) {
    for (Document& doc : batch) {
      doc.signals = {};
      doc.reason = Reason::kOk;
    }
  }
  arena.execute([&] {
    oneapi::tbb::parallel_for(size_t{0}, batches.size(),
                              [&](size_t b) { stage.Process(batches[b]); });
  });
}

// Runs `command` through the shell; throws when it fails.
inline void RunCommand(const std::string& command) {
  if (std::system(command.c_str()) != 0) {
    throw std::runtime_error("failed: " + command);
  }
}

}  // namespace needle::bench
