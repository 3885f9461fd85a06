// Throughput of the heuristic rule stages on one core. Prints, never
// asserts.
//
//   build/bench/heuristics_bench [--repeat N] [--sample FILE]
//
// Text: every document of data/sample/brown.jsonl (English prose, about
// 6 MB) unless --sample names another shard of data/sample/. Each stage in
// kStages runs with its default Options on all documents as one batch, on
// this thread, from fresh Documents each time (a rejected document would be
// skipped on the next run). MB/s are of input text (1 MB = 1e6 bytes) per
// second of this thread's CPU time, the fastest of N runs, since other work
// on the machine only slows a run down; wall-clock MB/s are shown beside
// them. The split_words row is words::SplitWords alone, which the first
// stage that needs words calls once per document (words::WordsOf caches the
// result on the Document): each stage's own row includes it, the
// all_heuristics row (every stage in kStages in turn on each batch, as a
// run would) splits once. To time another stage, add a row.

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench/sample_text.h"
#include "bench/timing.h"
#include "filters/c4.h"
#include "filters/fineweb.h"
#include "filters/gopher_quality.h"
#include "filters/gopher_repetition.h"
#include "filters/words.h"

namespace needle {
namespace {

using bench::CpuOf;
using bench::Fastest;
using bench::Timing;

struct BenchStage {
  const char* name;
  std::unique_ptr<Stage> (*make)();
};

template <class S>
std::unique_ptr<Stage> WithDefaults() {
  return std::make_unique<S>(typename S::Options());
}

constexpr BenchStage kStages[] = {
    {"gopher_quality", &WithDefaults<GopherQuality>},
    {"gopher_repetition", &WithDefaults<GopherRepetition>},
    {"c4", &WithDefaults<C4Quality>},
    {"fineweb", &WithDefaults<FinewebQuality>},
};

void Report(std::string_view what, double bytes, double docs, const Timing& t,
            std::string_view note) {
  fmt::print(
      "{:<20} {:8.1f} MB/s per core  {:9.0f} docs/s  (wall {:6.1f} "
      "MB/s){}\n",
      what, bytes / t.cpu_seconds / 1e6, docs / t.cpu_seconds,
      bytes / t.wall_seconds / 1e6, note);
}

int Main(int argc, char** argv) {
  int repeat = 5;
  std::string sample =
      std::string(NEEDLE_SOURCE_DIR) + "/data/sample/brown.jsonl";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else if (std::strcmp(argv[i], "--sample") == 0 && i + 1 < argc) {
      sample = argv[++i];
    } else {
      fmt::print(stderr,
                 "usage: heuristics_bench [--repeat N] [--sample FILE]\n");
      return 2;
    }
  }
  std::vector<std::string> texts;
  for (bench::SampleDoc& doc : bench::ReadSample(sample)) {
    texts.push_back(std::move(doc.text));
  }
  double bytes = 0;
  for (const std::string& text : texts)
    bytes += static_cast<double>(text.size());
  const auto docs_count = static_cast<double>(texts.size());
  fmt::print("{}: {} documents, {:.1f} MB, best of {}\n", sample, texts.size(),
             bytes / 1e6, repeat);

  size_t sink = 0;
  std::vector<std::string_view> tokens;
  Report("split_words", bytes, docs_count,
         Fastest(repeat, CpuOf::kThisThread,
                 [&] {
                   for (const std::string& text : texts) {
                     tokens.clear();
                     words::SplitWords(text, &tokens);
                     sink += tokens.size();
                   }
                 }),
         "");

  std::vector<Document> docs;
  const auto fresh_docs = [&] {
    docs.assign(texts.size(), Document());
    for (size_t i = 0; i < texts.size(); ++i) docs[i].text = texts[i];
  };
  for (const BenchStage& row : kStages) {
    const std::unique_ptr<Stage> stage = row.make();
    const Timing timing = Fastest(repeat, CpuOf::kThisThread, fresh_docs,
                                  [&] { stage->Process(docs); });
    const auto kept = std::count_if(docs.begin(), docs.end(),
                                    [](const Document& d) { return d.ok(); });
    Report(row.name, bytes, docs_count, timing,
           fmt::format("  {} of {} kept", kept, docs.size()));
    sink += docs[0].signals.size();
  }

  // All four in sequence on each batch, as a run would: the words split
  // by the first (words::WordsOf) serve the others.
  std::vector<std::unique_ptr<Stage>> all;
  for (const BenchStage& row : kStages) all.push_back(row.make());
  const Timing timing = Fastest(repeat, CpuOf::kThisThread, fresh_docs, [&] {
    for (const std::unique_ptr<Stage>& stage : all) stage->Process(docs);
  });
  const auto kept = std::count_if(docs.begin(), docs.end(),
                                  [](const Document& d) { return d.ok(); });
  Report("all_heuristics", bytes, docs_count, timing,
         fmt::format("  {} of {} kept", kept, docs.size()));
  if (sink == 42) fmt::print("\n");  // keeps the work from being optimized out
  return 0;
}

}  // namespace
}  // namespace needle

int main(int argc, char** argv) {
  return needle::bench::RunMain("heuristics_bench", needle::Main, argc, argv);
}
