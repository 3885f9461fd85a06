// Throughput of MinHash key computation on one core (issue 5; target: at
// least 100 MB/s per core). Prints, never asserts.
//
//   build/bench/minhash_bench [--repeat N]
//
// Text: every document of data/sample/brown.jsonl (English) and
// udhr.jsonl.gz (about 500 languages). For each, on one thread:
// normalization alone (MinHasher::Normalize's work), the signature of
// already normalized text, and MinHasher::Compute(), which does both plus
// the exact and band keys: the figure that counts. MB/s are of input text
// (1 MB = 1e6 bytes) per second of this thread's CPU time, the fastest of
// N runs, since other work on the machine only slows a run down; wall-clock
// MB/s are shown beside them.

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/sample_text.h"
#include "bench/timing.h"
#include "pipeline/minhash.h"

namespace needle {
namespace {

using bench::CpuOf;
using bench::Fastest;
using bench::Timing;

void Report(const std::string& corpus, const std::string& what, double bytes,
            const Timing& t) {
  fmt::print("{:<6} {:<10} {:8.1f} MB/s per core (wall {:6.1f} MB/s)\n", corpus,
             what, bytes / t.cpu_seconds / 1e6, bytes / t.wall_seconds / 1e6);
}

int Main(int argc, char** argv) {
  int repeat = 5;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else {
      fmt::print(stderr, "usage: minhash_bench [--repeat N]\n");
      return 2;
    }
  }
  const std::string sample = std::string(NEEDLE_SOURCE_DIR) + "/data/sample/";
  const MinHasher hasher{DedupOptions()};
  fmt::print("MinHash: {}-word shingles, {} bands x {} rows, best of {}\n",
             hasher.options().ngram_words, hasher.options().bands,
             hasher.options().rows, repeat);
  for (const char* name : {"brown.jsonl", "udhr.jsonl.gz"}) {
    std::vector<std::string> texts;
    for (bench::SampleDoc& doc : bench::ReadSample(sample + name)) {
      texts.push_back(std::move(doc.text));
    }
    double bytes = 0;
    for (const std::string& text : texts)
      bytes += static_cast<double>(text.size());
    std::vector<std::string> normalized;
    normalized.reserve(texts.size());
    for (const std::string& text : texts) {
      normalized.push_back(MinHasher::Normalize(text));
    }
    std::vector<uint32_t> signature(hasher.options().bands *
                                    hasher.options().rows);
    DedupKeys keys;
    uint64_t sink = 0;
    const std::string corpus = std::string(name).substr(0, 5);
    fmt::print("{}: {} documents, {:.1f} MB\n", name, texts.size(),
               bytes / 1e6);
    Report(corpus, "normalize", bytes, Fastest(repeat, CpuOf::kThisThread, [&] {
             for (const std::string& text : texts) {
               sink += MinHasher::Normalize(text).size();
             }
           }));
    Report(corpus, "signature", bytes, Fastest(repeat, CpuOf::kThisThread, [&] {
             for (const std::string& text : normalized) {
               hasher.Signature(text, signature);
               sink += signature[0];
             }
           }));
    Report(corpus, "compute", bytes, Fastest(repeat, CpuOf::kThisThread, [&] {
             for (const std::string& text : texts) {
               hasher.Compute(text, &keys);
               sink += keys.bands[0];
             }
           }));
    if (sink == 42)
      fmt::print("\n");  // keeps the work from being optimized out
  }
  return 0;
}

}  // namespace
}  // namespace needle

int main(int argc, char** argv) {
  return needle::bench::RunMain("minhash_bench", needle::Main, argc, argv);
}
