// Throughput of words::SplitWords and words::SplitSentences on one core.
// Prints, never asserts.
//
//   build/bench/words_bench [--repeat N] [--sample FILE]
//
// Text: every document of data/sample/brown.jsonl (English prose, about
// 6 MB) unless --sample names another shard of data/sample/. MB/s are of
// input text (1 MB = 1e6 bytes) per second of this thread's CPU time, the
// fastest of N runs (default 5); tokens go into one vector, cleared per
// document, as a stage would use it.

#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "bench/sample_text.h"
#include "filters/words.h"

namespace needle {
namespace {

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) +
         static_cast<double>(ts.tv_nsec) * 1e-9;
}

using Split = void (*)(std::string_view, std::vector<std::string_view>*);

// The fastest of `repeat` passes of `split` over `docs`: CPU seconds, and
// the number of pieces it made.
double Best(int repeat, Split split, const std::vector<bench::SampleDoc>& docs,
            size_t* pieces) {
  double best = 1e300;
  std::vector<std::string_view> out;
  for (int i = 0; i < repeat; ++i) {
    *pieces = 0;
    const double start = ThreadCpuSeconds();
    for (const bench::SampleDoc& doc : docs) {
      out.clear();
      split(doc.text, &out);
      *pieces += out.size();
    }
    best = std::min(best, ThreadCpuSeconds() - start);
  }
  return best;
}

int Main(int argc, char** argv) {
  int repeat = 5;
  std::string sample = "brown.jsonl";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--repeat") == 0) {
      repeat = std::max(1, std::atoi(argv[i + 1]));
    } else if (std::strcmp(argv[i], "--sample") == 0) {
      sample = argv[i + 1];
    }
  }
  const auto docs = bench::ReadSample(std::string(NEEDLE_SOURCE_DIR) +
                                      "/data/sample/" + sample);
  size_t bytes = 0;
  for (const auto& doc : docs) bytes += doc.text.size();
  fmt::print("{}: {} documents, {:.1f} MB; best of {} runs, one thread\n",
             sample, docs.size(), static_cast<double>(bytes) / 1e6, repeat);
  fmt::print("{:<16} {:>10} {:>10} {:>12}\n", "function", "MB/s", "cpu s",
             "pieces");
  const struct {
    const char* name;
    Split split;
  } rows[] = {{"SplitWords", &words::SplitWords},
              {"SplitSentences", &words::SplitSentences}};
  for (const auto& row : rows) {
    size_t pieces = 0;
    const double seconds = Best(repeat, row.split, docs, &pieces);
    fmt::print("{:<16} {:>10.1f} {:>10.3f} {:>12}\n", row.name,
               static_cast<double>(bytes) / 1e6 / seconds, seconds, pieces);
  }
  return 0;
}

}  // namespace
}  // namespace needle

int main(int argc, char** argv) {
  try {
    return needle::Main(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "words_bench: {}\n", e.what());
    return 1;
  }
}
