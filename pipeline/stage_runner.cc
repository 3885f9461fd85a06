#include "pipeline/stage_runner.h"

#include <time.h>

#include <exception>
#include <string>
#include <vector>

namespace needle {
namespace {

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) +
         static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::string Describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

// Each document's state before a stage ran, to undo a failed batch.
struct Snapshot {
  Reason reason;
  size_t signal_count;
  std::string_view text;
  size_t text_versions;
};

void Restore(const Snapshot& snapshot, Document* doc) {
  doc->reason = snapshot.reason;
  doc->reject_stage = {};
  doc->signals.resize(snapshot.signal_count);
  doc->text = snapshot.text;  // views the input or a version kept below
  doc->text_versions.resize(snapshot.text_versions);
}

void RunIsolated(const Stage& stage, const std::vector<Snapshot>& before,
                 Batch* batch) {
  for (size_t i = 0; i < batch->docs.size(); ++i) {
    Document& doc = batch->docs[i];
    Restore(before[i], &doc);
    if (!doc.ok()) continue;
    try {
      stage.Process(std::span<Document>(&doc, 1));
    } catch (...) {
      const std::string message = Describe(std::current_exception());
      Restore(before[i], &doc);
      doc.reason = Reason::kStageError;
      doc.reject_stage = stage.name();
      doc.detail = Own(batch, std::string(stage.name()) + ": " + message);
    }
  }
}

}  // namespace

void RunStages(std::span<const std::unique_ptr<Stage>> stages, Batch* batch) {
  batch->counters.stages.resize(stages.size());
  std::vector<Snapshot> before(batch->docs.size());
  for (size_t s = 0; s < stages.size(); ++s) {
    const Stage& stage = *stages[s];
    StageCounters& counters = batch->counters.stages[s];
    counters.name = std::string(stage.name());
    for (size_t i = 0; i < batch->docs.size(); ++i) {
      const Document& doc = batch->docs[i];
      before[i] = {doc.reason, doc.signals.size(), doc.text,
                   doc.text_versions.size()};
      counters.docs_in += doc.ok();
    }
    const double start = ThreadCpuSeconds();
    try {
      stage.Process(batch->docs);
    } catch (...) {
      RunIsolated(stage, before, batch);
    }
    counters.cpu_seconds += ThreadCpuSeconds() - start;
    for (size_t i = 0; i < batch->docs.size(); ++i) {
      const Document& doc = batch->docs[i];
      if (doc.ok()) {
        ++counters.docs_out;
      } else if (before[i].reason == Reason::kOk) {
        ++counters.rejects[static_cast<int>(doc.reason)];
      }
    }
  }
  // The word and line caches (about three times the text) are for the
  // stages only.
  for (Document& doc : batch->docs) {
    std::vector<std::string_view>().swap(doc.words);
    doc.words_of = {};
    std::vector<std::string_view>().swap(doc.lines);
    doc.lines_of = {};
  }
}

}  // namespace needle
