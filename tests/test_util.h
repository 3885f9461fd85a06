#pragma once
// Small helpers shared by the test binaries: fixture paths, temporary
// directories, whole-file reads of (possibly compressed) outputs.

#include <simdjson.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "pipeline/byte_source.h"
#include "pipeline/run.h"

namespace needle::testing {

inline std::string DataPath(const std::string& relative) {
  return std::string(NEEDLE_TEST_DATA_DIR) + "/" + relative;
}

// The sample shards scripts/setup builds; every test command runs setup.
inline std::string SampleDir() {
  return std::string(NEEDLE_SOURCE_DIR) + "/data/sample";
}

// A fresh directory under the test temp dir, removed by nobody: ctest's
// temp space is scratch.
inline std::string MakeTempDir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "needle-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  return pattern;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void WriteFile(const std::string& path, const std::string& bytes) {
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// The decompressed contents of a .jsonl, .gz or .zst file.
inline std::string Decompressed(const std::string& path) {
  std::string error;
  auto source = ByteSource::Open(path, &error);
  if (!source) throw std::runtime_error(path + ": " + error);
  std::string out;
  char buffer[1 << 16];
  while (size_t n = source->Read(buffer, sizeof(buffer))) out.append(buffer, n);
  if (!source->fault().empty()) throw std::runtime_error(source->fault());
  return out;
}

inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The "text" of every JSON line in a sample shard, read once per process.
inline const std::vector<std::string>& SampleTexts(const std::string& shard) {
  static auto* cache = new std::map<std::string, std::vector<std::string>>;
  auto [it, inserted] = cache->try_emplace(shard);
  if (inserted) {
    simdjson::dom::parser parser;
    for (const std::string& line :
         Lines(Decompressed(SampleDir() + "/" + shard))) {
      std::string_view text;
      if (!parser.parse(line)["text"].get(text)) it->second.emplace_back(text);
    }
  }
  return it->second;
}

// The "text" of the sample document with this "id"; throws if there is none.
inline std::string SampleText(const std::string& shard, std::string_view id) {
  simdjson::dom::parser parser;
  for (const std::string& line :
       Lines(Decompressed(SampleDir() + "/" + shard))) {
    simdjson::dom::element doc;
    if (parser.parse(line).get(doc)) continue;
    std::string_view doc_id;
    std::string_view text;
    if (!doc["id"].get(doc_id) && doc_id == id && !doc["text"].get(text)) {
      return std::string(text);
    }
  }
  throw std::runtime_error(shard + " has no document " + std::string(id));
}

// A quiet RunPipeline request.
inline RunRequest RequestFor(std::vector<std::string> inputs,
                             std::string out_dir, int threads = 1) {
  RunRequest request;
  request.inputs = std::move(inputs);
  request.out_dir = std::move(out_dir);
  request.threads = threads;
  request.quiet = true;
  return request;
}

}  // namespace needle::testing
