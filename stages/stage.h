#pragma once
// The interface every per-document stage implements.
//
// A stage looks at documents that are still ok(), records signals on them,
// and may reject one by setting its reason. It is constructed once from its
// Options (the TOML section of the same name) and is then read-only:
// Process() runs on many batches at once, from many threads. A stage that
// needs shared mutable state says so in its class comment.
//
// The runner around Process() (pipeline/stage_runner.h) counts documents in
// and out, rejects by reason and CPU time, and turns an exception into a
// stage_error quarantine entry for the one document that caused it.

#include <span>
#include <string_view>

#include "pipeline/batch.h"

namespace needle {

class Stage {
 public:
  virtual ~Stage() = default;
  // The registry name, which is also the config section name.
  virtual std::string_view name() const = 0;
  // Processes the documents that are ok(); leaves the others untouched. The
  // span is a whole batch, or a single document when the runner isolates
  // one that threw.
  virtual void Process(std::span<Document> docs) const = 0;

 protected:
  // Sets the reject reason and the stage that set it.
  void Reject(Document& doc, Reason reason) const {
    doc.reason = reason;
    doc.reject_stage = name();
  }
};

}  // namespace needle
