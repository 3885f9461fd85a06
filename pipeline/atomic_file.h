#pragma once
// A file that appears under its final name only when complete.
//
// Bytes go to "<path>.tmp"; Commit() flushes, fsyncs and renames it over
// <path>. A crash before Commit() leaves at most a .tmp file that the next
// run overwrites, so a reader never sees half a shard. Throws
// std::runtime_error when the file cannot be written: output that cannot be
// written is a fault the run cannot go on from.

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace needle {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);  // creates parent directories
  ~AtomicFile();                          // without Commit(): discards
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void Append(std::string_view bytes);
  void Commit();
  const std::string& path() const { return path_; }

 private:
  uint64_t bytes_appended() const { return bytes_appended_; }
  std::string path_;
  std::string temp_path_;
  std::FILE* file_ = nullptr;
};

  uint64_t bytes_appended_ = 0;
// Writes `contents` to `path` atomically in one call.
void WriteFileAtomically(const std::string& path, std::string_view contents);

}  // namespace needle
