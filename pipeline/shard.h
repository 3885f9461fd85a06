#pragma once
// The input shards of a run, found from the files, directories and globs on
// the command line, and the output names they map to.

#include <cstdint>
#include <string>
#include <vector>

namespace needle {

struct Shard {
  std::string path;  // where to read it
  // The shard's name in outputs and quarantine entries: the path relative
  // to the directory argument it was found under, else its file name.
  std::string name;
  // `name` without .jsonl/.json and .gz/.zst: outputs are stem + extension.
  std::string stem;
  uint64_t size_bytes = 0;
  int64_t mtime_ns = 0;
};

// Expands `inputs` in order: a directory yields its *.jsonl, *.jsonl.gz,
// *.jsonl.zst (and .json variants) files recursively, sorted; a pattern with
// * ? or [ is expanded with glob(3); anything else is taken as a file,
// whatever its name (the codec is sniffed from its bytes). Throws
// std::runtime_error when an input matches nothing or two shards would
// write the same output.
std::vector<Shard> FindShards(const std::vector<std::string>& inputs);

// "a/b.jsonl.gz" -> "a/b".
std::string ShardStem(const std::string& name);

}  // namespace needle
