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
#include <utility>
#include <vector>

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
  uint64_t bytes_appended() const { return bytes_appended_; }

 private:
  std::string path_;
  std::string temp_path_;
  std::FILE* file_ = nullptr;
  uint64_t bytes_appended_ = 0;
};

// Writes `contents` to `path` atomically in one call.
void WriteFileAtomically(const std::string& path, std::string_view contents);

// Makes the written files at `paths` durable: an fsync each, all at once on
// their own threads, so that the file system can fold them into one journal
// commit rather than one after another. Throws like AtomicFile.
void SyncFiles(const std::vector<std::string>& paths);

// WriteFileAtomically for several files, synced together (SyncFiles)
// before the first is renamed.
void WriteFilesAtomically(
    const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace needle
