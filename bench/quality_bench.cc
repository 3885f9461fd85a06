// Throughput of the `quality` stage on the Brown sample, beside the fastText
// command-line tool scoring the same prepared lines. Prints, never asserts.
//
//   build/bench/quality_bench [--repeat N] [--model PATH]
//
// Text: every document of data/sample/brown.jsonl (500 texts, 6 MB). The
// stage runs Quality::Process() on batches of documents on TBB threads, as
// the pipeline does, at 1 and 2 threads (one shared stage). The CLI runs
// `fasttext predict-prob MODEL FILE 2 >/dev/null` on the prepared lines,
// its startup (an empty input) subtracted. MB are of document text (1 MB =
// 1e6 bytes); the fastest of N runs is reported, since other work on the
// machine only ever slows a run down.

#include <fmt/format.h>
#include <oneapi/tbb/task_arena.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/sample_text.h"
#include "bench/stage_runs.h"
#include "bench/timing.h"
#include "stages/fasttext_classifier.h"
#include "stages/quality.h"

namespace needle {
namespace {

using bench::CpuOf;
using bench::Fastest;
using bench::MakeBatches;
using bench::RunCommand;
using bench::RunStage;
using bench::Timing;

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int Main(int argc, char** argv) {
  int repeat = 5;
  std::string model = std::string(NEEDLE_SOURCE_DIR) + "/models/quality.bin";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--repeat") {
      repeat = std::max(1, std::atoi(argv[i + 1]));
    } else if (flag == "--model") {
      model = argv[i + 1];
    }
  }
  const std::vector<std::string> texts = bench::BrownTexts();
  uint64_t bytes = 0;
  for (const std::string& text : texts) bytes += text.size();
  const double mb = static_cast<double>(bytes) / 1e6;
  auto batches = MakeBatches(texts);

  char dir_template[] = "/tmp/quality_bench-XXXXXX";
  const std::string dir = ::mkdtemp(dir_template);
  const std::string prepared = dir + "/prepared.txt";
  const std::string empty = dir + "/empty.txt";
  {
    std::ofstream out(prepared, std::ios::binary);
    for (const std::string& text : texts) out << FastTextLine(text, 0) << '\n';
    std::ofstream touch(empty);
  }

  Quality::Options options;
  options.model_path = model;
  const auto load_start = Clock::now();
  const Quality stage(options);
  const double load_seconds = SecondsSince(load_start);

  fmt::print("quality_bench: {} documents, {:.2f} MB of text, model {}\n",
             texts.size(), mb, model);
  fmt::print("machine: {} cores online; fastest of {} runs each\n",
             std::thread::hardware_concurrency(), repeat);
  fmt::print("stage model load: {:.3f} s\n\n", load_seconds);

  oneapi::tbb::task_arena one_thread(1);
  oneapi::tbb::task_arena two_threads(2);
  RunStage(stage, batches, one_thread);  // warm up: buffers, page cache
  RunStage(stage, batches, two_threads);
  const Timing stage1 = Fastest(repeat, CpuOf::kProcess,
                                [&] { RunStage(stage, batches, one_thread); });
  const Timing stage2 = Fastest(repeat, CpuOf::kProcess,
                                [&] { RunStage(stage, batches, two_threads); });
  const std::string cli = "fasttext predict-prob " + model + " ";
  const Timing startup = Fastest(repeat, CpuOf::kChildren, [&] {
    RunCommand(cli + empty + " 2 >/dev/null");
  });
  Timing cli1 = Fastest(repeat, CpuOf::kChildren,
                        [&] { RunCommand(cli + prepared + " 2 >/dev/null"); });
  cli1.wall_seconds -= startup.wall_seconds;
  cli1.cpu_seconds -= startup.cpu_seconds;

  // Per core: MB over wall seconds over the cores in use; per CPU second:
  // MB over the CPU time spent, which other work inflates far less.
  fmt::print("{:<28} {:>8} {:>8} {:>14} {:>14}\n", "", "wall s", "CPU s",
             "MB/s per core", "MB per CPU-s");
  auto row = [&](const char* what, const Timing& t, int cores) {
    fmt::print("{:<28} {:>8.3f} {:>8.3f} {:>14.1f} {:>14.1f}\n", what,
               t.wall_seconds, t.cpu_seconds, mb / t.wall_seconds / cores,
               mb / t.cpu_seconds);
  };
  row("quality stage, 1 thread", stage1, 1);
  row("quality stage, 2 threads", stage2, 2);
  row("fasttext CLI, 1 process", cli1, 1);
  fmt::print(
      "\nstage / CLI, MB per CPU-second: {:.2f}x; CLI startup (model "
      "load): {:.3f} s\n",
      cli1.cpu_seconds / stage1.cpu_seconds, startup.wall_seconds);

  std::remove(prepared.c_str());
  std::remove(empty.c_str());
  ::rmdir(dir.c_str());
  return 0;
}

}  // namespace
}  // namespace needle

int main(int argc, char** argv) {
  return needle::bench::RunMain("quality_bench", needle::Main, argc, argv);
}
