// Throughput of the `lang` stage against the fastText command-line tool on
// the same text, side by side in one run (issue 3). Prints, never asserts.
//
//   build/bench/lang_id_bench [--repeat N] [--model PATH]
//
// Text: every document of data/sample/udhr.jsonl.gz and brown.jsonl. The
// stage runs LangId::Process() on batches of documents on TBB threads, as
// the pipeline does, at 1 and 2 threads (one shared stage, one thread per
// core). The CLI runs `fasttext predict-prob MODEL FILE 1 >/dev/null` on
// the prepared lines of the same documents, once alone and twice at once.
// MB/s are of document text (1 MB = 1e6 bytes); the fastest of N runs is
// reported, since other work on the machine only ever slows a run down.

#include <fmt/format.h>
#include <oneapi/tbb/task_arena.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/sample_text.h"
#include "bench/stage_runs.h"
#include "bench/timing.h"
#include "stages/lang_id.h"

namespace needle {
namespace {

using bench::CpuOf;
using bench::DocumentBatches;
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
  std::string model = std::string(NEEDLE_SOURCE_DIR) + "/models/lid.176.ftz";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--repeat") {
      repeat = std::max(1, std::atoi(argv[i + 1]));
    } else if (flag == "--model") {
      model = argv[i + 1];
    }
  }
  const std::string sample = std::string(NEEDLE_SOURCE_DIR) + "/data/sample/";
  std::vector<std::string> texts;
  for (const char* shard : {"udhr.jsonl.gz", "brown.jsonl"}) {
    for (bench::SampleDoc& doc : bench::ReadSample(sample + shard)) {
      texts.push_back(std::move(doc.text));
    }
  }
  DocumentBatches work = MakeBatches(texts);
  uint64_t bytes = 0;
  for (const std::string& text : texts) bytes += text.size();
  const double mb = static_cast<double>(bytes) / 1e6;

  char dir_template[] = "/tmp/lang_id_bench-XXXXXX";
  const std::string dir = ::mkdtemp(dir_template);
  const std::string prepared = dir + "/prepared.txt";
  const std::string empty = dir + "/empty.txt";
  {
    std::ofstream out(prepared, std::ios::binary);
    for (const std::string& text : texts)
      out << LangId::Prepare(text, 0) << '\n';
    std::ofstream touch(empty);
  }

  LangId::Options options;
  options.model_path = model;
  options.min_score = 0;
  const auto load_start = Clock::now();
  const LangId stage(options);
  const double load_seconds = SecondsSince(load_start);

  fmt::print("lang_id_bench: {} documents, {:.2f} MB of text, model {}\n",
             texts.size(), mb, model);
  fmt::print("machine: {} cores online; fastest of {} runs each\n",
             std::thread::hardware_concurrency(), repeat);
  fmt::print("stage model load: {:.3f} s\n\n", load_seconds);

  oneapi::tbb::task_arena one_thread(1);
  oneapi::tbb::task_arena two_threads(2);
  RunStage(stage, work, one_thread);  // warm up: buffers, page cache
  RunStage(stage, work, two_threads);
  const Timing stage1 = Fastest(repeat, CpuOf::kProcess,
                                [&] { RunStage(stage, work, one_thread); });
  const Timing stage2 = Fastest(repeat, CpuOf::kProcess,
                                [&] { RunStage(stage, work, two_threads); });

  const std::string cli = "fasttext predict-prob " + model + " ";
  const Timing startup = Fastest(repeat, CpuOf::kChildren, [&] {
    RunCommand(cli + empty + " 1 >/dev/null");
  });
  const Timing cli1 = Fastest(repeat, CpuOf::kChildren, [&] {
    RunCommand(cli + prepared + " 1 >/dev/null");
  });
  const Timing cli2 = Fastest(repeat, CpuOf::kChildren, [&] {
    RunCommand("(" + cli + prepared + " 1 >/dev/null & " + cli + prepared +
               " 1 >/dev/null & wait)");
  });

  // Per core: MB over wall seconds, divided by the cores in use; per CPU
  // second: MB over the CPU time actually spent, which other work on the
  // machine does not inflate. The CLI's startup (model load) is left out.
  struct Row {
    std::string what;
    int cores;
    double mb;
    Timing time;
  };
  const std::vector<Row> rows = {
      {"lang stage, 1 thread", 1, mb, stage1},
      {"lang stage, 2 threads", 2, mb, stage2},
      {"fasttext CLI, 1 process",
       1,
       mb,
       {cli1.wall_seconds - startup.wall_seconds,
        cli1.cpu_seconds - startup.cpu_seconds}},
      {"fasttext CLI, 2 processes at once",
       2,
       2 * mb,
       {cli2.wall_seconds - startup.wall_seconds,
        cli2.cpu_seconds - 2 * startup.cpu_seconds}},
  };
  fmt::print("{:<34} {:>8} {:>8} {:>14} {:>16}\n", "", "wall s", "CPU s",
             "MB/s per core", "MB per CPU-s");
  std::vector<double> per_core;
  std::vector<double> per_cpu;
  for (const Row& row : rows) {
    per_core.push_back(row.mb / row.time.wall_seconds / row.cores);
    per_cpu.push_back(row.mb / row.time.cpu_seconds);
    fmt::print("{:<34} {:>8.3f} {:>8.3f} {:>14.1f} {:>16.1f}\n", row.what,
               row.time.wall_seconds, row.time.cpu_seconds, per_core.back(),
               per_cpu.back());
  }
  fmt::print(
      "\nstage / CLI, MB/s per core: {:.2f}x at 1 thread, {:.2f}x at 2\n",
      per_core[0] / per_core[2], per_core[1] / per_core[3]);
  fmt::print("stage / CLI, MB per CPU-second: {:.2f}x\n",
             per_cpu[0] / per_cpu[2]);
  fmt::print("stage scaling, 2 threads / 1 thread (wall): {:.2f}x\n",
             stage1.wall_seconds / stage2.wall_seconds);
  fmt::print("CLI startup (model load, empty input): {:.3f} s\n",
             startup.wall_seconds);

  std::remove(prepared.c_str());
  std::remove(empty.c_str());
  ::rmdir(dir.c_str());
  return 0;
}

}  // namespace
}  // namespace needle

int main(int argc, char** argv) {
  return needle::bench::RunMain("lang_id_bench", needle::Main, argc, argv);
}
