// Throughput of the pii and url_filter stages on one core (issue 4).
// Prints, never asserts.
//
//   build/bench/url_pii_bench [--repeat N] [--docs N]
//
// pii: every text of data/sample/brown.jsonl, as is (English prose with
// almost no addresses) and with an email and an IP spliced in every ~500
// bytes (the worst case: every hit is replaced), measuring only and
// replacing. MB/s are of input text (1 MB = 1e6 bytes) per second of this
// thread's CPU time, the fastest of N runs; wall-clock beside them.
//
// url_filter: N JSON lines, each a Brown text with a url, a fifth of them on
// one of 100,000 generated listed domains (under a subdomain), checked
// against that list and 50 patterns. Reported as docs/s, beside the cost
// of reading the url out of the line alone (the stage with no lists) and
// of the DOM parse plus UTF-8 check that the pipeline's parser already does
// on every line, for scale.

#include <fmt/format.h>
#include <simdjson.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/sample_text.h"
#include "bench/timing.h"
#include "filters/pii.h"
#include "filters/url_filter.h"
#include "pipeline/json_text.h"

namespace needle {
namespace {

using bench::CpuOf;
using bench::Fastest;
using bench::Timing;

// Every ~500 bytes, at the next space, an email and a public IP.
std::string WithPii(const std::string& text) {
  std::string out;
  size_t last = 0;
  for (size_t at = text.find(' ', 500); at != std::string::npos;
       at = text.find(' ', at + 500)) {
    out.append(text, last, at - last);
    out += " j.doe@mail.example.net 93.184.216.34";
    last = at;
  }
  out.append(text, last);
  return out;
}

void BenchPii(const std::vector<std::string>& brown, int repeat) {
  std::vector<std::string> with_pii;
  with_pii.reserve(brown.size());
  for (const std::string& text : brown) with_pii.push_back(WithPii(text));
  Pii::Options measure_options;
  Pii::Options replace_options;
  replace_options.replace = true;
  const Pii measure(measure_options);
  const Pii replace(replace_options);
  struct Corpus {
    const char* label;
    const std::vector<std::string>* texts;
  };
  for (const Corpus& corpus :
       {Corpus{"brown", &brown}, Corpus{"brown+pii", &with_pii}}) {
    const std::vector<std::string>* texts = corpus.texts;
    double bytes = 0;
    int64_t hits = 0;
    for (const std::string& text : *texts) {
      bytes += static_cast<double>(text.size());
      const Pii::Found found = measure.Find(text, false);
      hits += found.emails + found.ips;
    }
    fmt::print("pii on {}: {} documents, {:.1f} MB, {} emails and IPs\n",
               corpus.label, texts->size(), bytes / 1e6, hits);
    for (const Pii* stage : {&measure, &replace}) {
      std::vector<Document> docs;
      const Timing t = Fastest(
          repeat, CpuOf::kThisThread,
          [&] {
            docs.assign(texts->size(), Document());
            for (size_t i = 0; i < docs.size(); ++i) docs[i].text = (*texts)[i];
          },
          [&] { stage->Process(docs); });
      fmt::print("  {:<8} {:8.1f} MB/s per core (wall {:6.1f} MB/s)\n",
                 stage == &measure ? "measure" : "replace",
                 bytes / t.cpu_seconds / 1e6, bytes / t.wall_seconds / 1e6);
    }
  }
}

// Writes `bytes` to a new file under the temp directory; returns its path.
std::string WriteTempFile(const std::string& name, const std::string& bytes) {
  std::string dir =
      (std::filesystem::temp_directory_path() / "url-pii-bench-XXXXXX")
          .string();
  if (::mkdtemp(dir.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// A deterministic pseudo-random generator (splitmix64), so every run lists
// the same domains.
uint64_t Next(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::string RandomLabel(uint64_t* state) {
  std::string label;
  const size_t length = 4 + Next(state) % 12;
  for (size_t i = 0; i < length; ++i) {
    label.push_back(static_cast<char>('a' + Next(state) % 26));
  }
  return label;
}

void BenchUrlFilter(const std::vector<std::string>& brown, int repeat,
                    size_t doc_count) {
  constexpr const char* kTlds[] = {"com", "net", "org", "de", "fr", "co.uk"};
  uint64_t state = 42;
  std::vector<std::string> listed;
  std::string domains_file;
  for (int i = 0; i < 100'000; ++i) {
    listed.push_back(RandomLabel(&state) + "-" + std::to_string(i) + "." +
                     kTlds[Next(&state) % std::size(kTlds)]);
    domains_file += listed.back() + "\n";
  }
  std::string patterns_file;
  for (int i = 0; i < 50; ++i) patterns_file += RandomLabel(&state) + "\n";

  std::vector<std::string> lines;
  double bytes = 0;
  for (size_t i = 0; i < doc_count; ++i) {
    const std::string host =
        i % 5 == 0 ? "www." + listed[Next(&state) % listed.size()]
                   : RandomLabel(&state) + "." + RandomLabel(&state) + ".com";
    std::string line = "{\"id\":\"" + std::to_string(i) + "\",\"text\":";
    AppendJsonString(brown[i % brown.size()], &line);
    line += ",\"url\":\"https://" + host + "/" + RandomLabel(&state) +
            "/index.html\"}";
    bytes += static_cast<double>(line.size());
    lines.push_back(std::move(line));
  }
  fmt::print(
      "url_filter: {} lines of {:.1f} KB on average, 100000 listed domains, "
      "50 patterns\n",
      lines.size(), bytes / static_cast<double>(lines.size()) / 1e3);

  UrlFilter::Options with_lists;
  with_lists.domains_file = WriteTempFile("domains.txt", domains_file);
  with_lists.patterns_file = WriteTempFile("patterns.txt", patterns_file);
  const auto load_start = std::chrono::steady_clock::now();
  const UrlFilter filter(with_lists);
  fmt::print("  lists loaded in {:.3f} s\n",
             std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                           load_start)
                 .count());
  const UrlFilter no_lists{UrlFilter::Options()};

  const auto docs_per_second = [&](double seconds) {
    return static_cast<double>(lines.size()) / seconds;
  };
  for (const UrlFilter* stage : {&filter, &no_lists}) {
    std::vector<Document> docs;
    size_t blocked = 0;
    const Timing t = Fastest(
        repeat, CpuOf::kThisThread,
        [&] {
          docs.assign(lines.size(), Document());
          for (size_t i = 0; i < docs.size(); ++i) docs[i].raw = lines[i];
        },
        [&] { stage->Process(docs); });
    for (const Document& doc : docs) blocked += !doc.ok();
    fmt::print(
        "  {:<24} {:9.0f} docs/s per core ({:6.1f} MB/s of lines; wall "
        "{:9.0f} docs/s), {} blocked\n",
        stage == &filter ? "url_filter" : "url_filter, no lists",
        docs_per_second(t.cpu_seconds), bytes / t.cpu_seconds / 1e6,
        docs_per_second(t.wall_seconds), blocked);
  }
  simdjson::dom::parser parser;
  size_t objects = 0;
  const Timing t = Fastest(
      repeat, CpuOf::kThisThread, [] {},
      [&] {
        for (const std::string& line : lines) {
          objects += simdjson::validate_utf8(line.data(), line.size()) &&
                     parser.parse(line).is_object();
        }
      });
  fmt::print(
      "  {:<24} {:9.0f} docs/s per core ({:6.1f} MB/s of lines), for scale\n",
      "parser's DOM parse", docs_per_second(t.cpu_seconds),
      bytes / t.cpu_seconds / 1e6);
  if (objects == 42) fmt::print("\n");  // keeps the work from being dropped
}

int Main(int argc, char** argv) {
  int repeat = 5;
  size_t doc_count = 20'000;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else if (std::strcmp(argv[i], "--docs") == 0 && i + 1 < argc) {
      doc_count = std::max(1, std::atoi(argv[++i]));
    } else {
      fmt::print(stderr, "usage: url_pii_bench [--repeat N] [--docs N]\n");
      return 2;
    }
  }
  const std::vector<std::string> brown = bench::BrownTexts();
  fmt::print("best of {}\n", repeat);
  BenchPii(brown, repeat);
  BenchUrlFilter(brown, repeat, doc_count);
  return 0;
}

}  // namespace
}  // namespace needle

int main(int argc, char** argv) {
  return needle::bench::RunMain("url_pii_bench", needle::Main, argc, argv);
}
