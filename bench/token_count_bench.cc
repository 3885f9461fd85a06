// Throughput of token counting (the `tokens` stage's BpeTokenizer) on
// English text, against the npm tiktoken package on the same text in the
// same run (issue 7). Prints, never asserts.
//
//   build/bench/token_count_bench [--benchmark_filter=...]
//
// Text: every document of data/sample/brown.jsonl (the Brown corpus, 6 MB of
// English). One thread, so MB/s are per core (1 MB = 1e6 bytes of document
// text). Benchmarks, per encoding:
//   Count        what the stage does: counts with the thread's warm cache
//   CountCold    a fresh cache for each pass over the corpus
//   Encode       token ids, no cache: the work npm tiktoken's encode does
//   Pretokenize  splitting into pieces alone
// Then bench/tiktoken_speed.cjs times the npm package's encode_ordinary
// under node on the same documents (the best of 3 passes after a warm-up),
// and the last lines print Count's MB/s against it, per CPU second (what a
// core does, whatever else the machine runs) and per wall second.

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bench/sample_text.h"
#include "stages/bpe_tokenizer.h"

namespace needle {
namespace {

constexpr const char* kEncodings[] = {"cl100k_base", "o200k_base", "r50k_base"};

std::string SourcePath(const std::string& relative) {
  return std::string(NEEDLE_SOURCE_DIR) + "/" + relative;
}

const std::vector<std::string>& Texts() {
  static const auto* texts = [] {
    auto* all = new std::vector<std::string>();
    for (auto& doc : bench::ReadSample(SourcePath("data/sample/brown.jsonl"))) {
      all->push_back(std::move(doc.text));
    }
    return all;
  }();
  return *texts;
}

int64_t TextBytes() {
  int64_t bytes = 0;
  for (const std::string& text : Texts()) {
    bytes += static_cast<int64_t>(text.size());
  }
  return bytes;
}

const BpeTokenizer& Tokenizer(const std::string& encoding) {
  static auto* loaded = new std::map<std::string, BpeTokenizer>();
  auto it = loaded->find(encoding);
  if (it == loaded->end()) {
    it = loaded
             ->emplace(
                 encoding,
                 BpeTokenizer::Load(SourcePath("models/" + encoding + ".json")))
             .first;
  }
  return it->second;
}

void Count(benchmark::State& state, const std::string& encoding) {
  const BpeTokenizer& tokenizer = Tokenizer(encoding);
  BpeCache cache;
  int64_t tokens = 0;
  for (auto _ : state) {
    tokens = 0;
    for (const std::string& text : Texts()) {
      tokens += tokenizer.Count(text, cache);
    }
    benchmark::DoNotOptimize(tokens);
  }
  state.SetBytesProcessed(state.iterations() * TextBytes());
  state.counters["tokens"] = static_cast<double>(tokens);
  state.counters["hit_rate"] =
      static_cast<double>(cache.hits()) / static_cast<double>(cache.lookups());
}

void CountCold(benchmark::State& state, const std::string& encoding) {
  const BpeTokenizer& tokenizer = Tokenizer(encoding);
  for (auto _ : state) {
    BpeCache cache;
    int64_t tokens = 0;
    for (const std::string& text : Texts()) {
      tokens += tokenizer.Count(text, cache);
    }
    benchmark::DoNotOptimize(tokens);
  }
  state.SetBytesProcessed(state.iterations() * TextBytes());
}

void Encode(benchmark::State& state, const std::string& encoding) {
  const BpeTokenizer& tokenizer = Tokenizer(encoding);
  std::vector<uint32_t> ids;
  for (auto _ : state) {
    for (const std::string& text : Texts()) {
      ids.clear();
      tokenizer.Encode(text, &ids);
      benchmark::DoNotOptimize(ids.data());
    }
  }
  state.SetBytesProcessed(state.iterations() * TextBytes());
}

void Pretokenize(benchmark::State& state, const std::string& encoding) {
  const Pretokenizer& pretokenizer = Tokenizer(encoding).pretokenizer();
  for (auto _ : state) {
    size_t pieces = 0;
    for (const std::string& text : Texts()) {
      for (size_t pos = 0; pos < text.size(); ++pieces) {
        pos = pretokenizer.Next(text, pos);
      }
    }
    benchmark::DoNotOptimize(pieces);
  }
  state.SetBytesProcessed(state.iterations() * TextBytes());
}

struct Speed {
  double wall = 0;  // MB of text per second
  double cpu = 0;   // MB of text per CPU second
};

// Keeps each run's speed, by name, for the summary.
class Reporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      const double mb = static_cast<double>(TextBytes()) / 1e6 *
                        static_cast<double>(run.iterations);
      speeds[run.benchmark_name()] = {mb / run.real_accumulated_time,
                                      mb / run.cpu_accumulated_time};
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, Speed> speeds;
};

// npm tiktoken's speed per encoding, from bench/tiktoken_speed.cjs, or an
// empty map (with the reason printed) when node or the package is missing.
std::map<std::string, Speed> TiktokenSpeeds() {
  const std::string package = SourcePath(".cache/src/tiktoken-1.0.22/package");
  if (!std::filesystem::exists(package + "/tiktoken.cjs")) {
    std::printf("npm tiktoken: not in %s; run scripts/setup\n",
                package.c_str());
    return {};
  }
  const std::string dir = std::filesystem::temp_directory_path() /
                          fmt::format("token_count_bench-{}", ::getpid());
  std::filesystem::create_directories(dir);
  {
    std::ofstream out(dir + "/texts.bin", std::ios::binary);
    for (const std::string& text : Texts()) {
      const auto size = static_cast<uint32_t>(text.size());
      for (int shift = 0; shift < 32; shift += 8) {
        out.put(static_cast<char>((size >> shift) & 0xFF));
      }
      out << text;
    }
  }
  std::string command =
      fmt::format("node '{}' '{}' '{}/texts.bin'",
                  SourcePath("bench/tiktoken_speed.cjs"), package, dir);
  for (const char* encoding : kEncodings)
    command += std::string(" ") + encoding;
  std::map<std::string, Speed> speeds;
  FILE* pipe = ::popen(command.c_str(), "r");
  char line[256];
  while (pipe != nullptr && std::fgets(line, sizeof(line), pipe) != nullptr) {
    std::istringstream fields(line);
    std::string encoding;
    Speed speed;
    if (fields >> encoding >> speed.wall >> speed.cpu) speeds[encoding] = speed;
  }
  if (pipe == nullptr || ::pclose(pipe) != 0) {
    std::printf("npm tiktoken: `%s` failed\n", command.c_str());
  }
  std::filesystem::remove_all(dir);
  return speeds;
}

int Main(int argc, char** argv) {
  for (const char* encoding : kEncodings) {
    const std::string name = encoding;
    benchmark::RegisterBenchmark(("Count/" + name).c_str(), Count, name);
    benchmark::RegisterBenchmark(("CountCold/" + name).c_str(), CountCold,
                                 name);
    benchmark::RegisterBenchmark(("Encode/" + name).c_str(), Encode, name);
    benchmark::RegisterBenchmark(("Pretokenize/" + name).c_str(), Pretokenize,
                                 name);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::printf("text: data/sample/brown.jsonl, %zu documents, %.1f MB\n",
              Texts().size(), static_cast<double>(TextBytes()) / 1e6);
  Reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  const auto npm = TiktokenSpeeds();
  std::printf(
      "\nMB/s of text, one thread: per CPU second (per wall second)\n"
      "%-12s %18s %18s %16s\n",
      "encoding", "Count", "npm tiktoken", "ratio");
  for (const char* encoding : kEncodings) {
    const auto ours = reporter.speeds.find(std::string("Count/") + encoding);
    const auto theirs = npm.find(encoding);
    if (ours == reporter.speeds.end() || theirs == npm.end()) continue;
    const Speed& a = ours->second;
    const Speed& b = theirs->second;
    std::printf("%-12s %8.1f (%7.1f) %8.1f (%7.1f) %6.1fx (%5.1fx)\n", encoding,
                a.cpu, a.wall, b.cpu, b.wall, a.cpu / b.cpu, a.wall / b.wall);
  }
  return 0;
}

}  // namespace
}  // namespace needle

int main(int argc, char** argv) {
  try {
    return needle::Main(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "token_count_bench: %s\n", error.what());
    return 1;
  }
}
