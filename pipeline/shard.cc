#include "pipeline/shard.h"

#include <fmt/format.h>
#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <stdexcept>

namespace needle {
namespace fs = std::filesystem;
namespace {

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.substr(text.size() - suffix.size()) == suffix;
}

bool LooksLikeShard(const std::string& file_name) {
  for (const char* ext : {".jsonl", ".jsonl.gz", ".jsonl.zst", ".json",
                          ".json.gz", ".json.zst", ".jsonl.zstd"}) {
    if (EndsWith(file_name, ext)) return true;
  }
  return false;
}

Shard MakeShard(const std::string& path, const std::string& name) {
  Shard shard;
  shard.path = path;
  shard.name = name;
  shard.stem = ShardStem(name);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    shard.size_bytes = static_cast<uint64_t>(st.st_size);
    shard.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                     st.st_mtim.tv_nsec;
  }
  return shard;
}

}  // namespace

std::string ShardStem(const std::string& name) {
  std::string stem = name;
  for (const char* ext : {".gz", ".zst", ".zstd"}) {
    if (EndsWith(stem, ext)) {
      stem.resize(stem.size() - std::string_view(ext).size());
      break;
    }
  }
  for (const char* ext : {".jsonl", ".json"}) {
    if (EndsWith(stem, ext)) {
      stem.resize(stem.size() - std::string_view(ext).size());
      break;
    }
  }
  return stem;
}

std::vector<Shard> FindShards(const std::vector<std::string>& inputs) {
  std::vector<Shard> shards;
  for (const std::string& input : inputs) {
    std::error_code error;
    if (fs::is_directory(input, error)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::recursive_directory_iterator(input)) {
        if (entry.is_regular_file() &&
            LooksLikeShard(entry.path().filename().string())) {
          found.push_back(fs::relative(entry.path(), input).string());
        }
      }
      if (found.empty()) {
        throw std::runtime_error(fmt::format(
            "{}: no .jsonl, .jsonl.gz or .jsonl.zst files in this directory",
            input));
      }
      std::sort(found.begin(), found.end());
      for (const std::string& relative : found) {
        shards.push_back(
            MakeShard((fs::path(input) / relative).string(), relative));
      }
    } else if (input.find_first_of("*?[") != std::string::npos) {
      glob_t matches{};
      const int status = ::glob(input.c_str(), 0, nullptr, &matches);
      std::vector<std::string> found(matches.gl_pathv,
                                     matches.gl_pathv + matches.gl_pathc);
      ::globfree(&matches);
      if (status != 0 || found.empty()) {
        throw std::runtime_error(
            fmt::format("{}: the pattern matches no file", input));
      }
      for (const std::string& path : found) {
        shards.push_back(MakeShard(path, fs::path(path).filename().string()));
      }
    } else {
      if (!fs::exists(input, error)) {
        throw std::runtime_error(fmt::format("{}: no such file", input));
      }
      shards.push_back(MakeShard(input, fs::path(input).filename().string()));
    }
  }
  std::map<std::string, const Shard*> by_stem;
  for (const Shard& shard : shards) {
    auto [it, inserted] = by_stem.emplace(shard.stem, &shard);
    if (!inserted) {
      throw std::runtime_error(fmt::format(
          "{} and {} would both be written as '{}'; give them different "
          "names or pass their common parent directory",
          it->second->path, shard.path, shard.stem));
    }
  }
  return shards;
}

}  // namespace needle
