#include "pipeline/atomic_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace needle {
namespace {

[[noreturn]] void Fail(std::string_view what, const std::string& path) {
  throw std::runtime_error(
      fmt::format("{}: cannot {}: {}", path, what, std::strerror(errno)));
}

}  // namespace

AtomicFile::AtomicFile(std::string path)
    : path_(std::move(path)), temp_path_(path_ + ".tmp") {
  std::error_code error;
  std::filesystem::create_directories(
      std::filesystem::path(path_).parent_path(), error);
  file_ = std::fopen(temp_path_.c_str(), "wb");
  if (file_ == nullptr) Fail("create", temp_path_);
}

AtomicFile::~AtomicFile() {
  if (file_ != nullptr) {
    std::fclose(file_);
    std::remove(temp_path_.c_str());
  }
}

void AtomicFile::Append(std::string_view bytes) {
  if (bytes.empty()) return;
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
    Fail("write", temp_path_);
  }
  bytes_appended_ += bytes.size();
}

void AtomicFile::Commit() {
  if (std::fflush(file_) != 0) Fail("write", temp_path_);
  if (::fsync(::fileno(file_)) != 0) Fail("sync", temp_path_);
  const int close_status = std::fclose(file_);
  file_ = nullptr;
  if (close_status != 0) Fail("close", temp_path_);
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    Fail("rename to final name", temp_path_);
  }
}

void WriteFileAtomically(const std::string& path, std::string_view contents) {
  AtomicFile file(path);
  file.Append(contents);
  file.Commit();
}

void SyncFiles(const std::vector<std::string>& paths) {
  std::vector<std::string> failures(paths.size());
  {
    std::vector<std::jthread> threads;
    threads.reserve(paths.size());
    for (size_t i = 0; i < paths.size(); ++i) {
      threads.emplace_back([&, i] {
        const int fd = ::open(paths[i].c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0 || ::fsync(fd) != 0) {
          failures[i] = fmt::format("{}: cannot sync: {}", paths[i],
                                    std::strerror(errno));
        }
        if (fd >= 0) ::close(fd);
      });
    }
  }  // the jthreads join here
  for (const std::string& failure : failures) {
    if (!failure.empty()) throw std::runtime_error(failure);
  }
}

void WriteFilesAtomically(
    const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<std::string> temp_paths;
  for (const auto& [path, contents] : files) {
    std::error_code error;
    std::filesystem::create_directories(
        std::filesystem::path(path).parent_path(), error);
    temp_paths.push_back(path + ".tmp");
    std::FILE* file = std::fopen(temp_paths.back().c_str(), "wb");
    if (file == nullptr) Fail("create", temp_paths.back());
    const bool written = std::fwrite(contents.data(), 1, contents.size(),
                                     file) == contents.size();
    if (std::fclose(file) != 0 || !written) Fail("write", temp_paths.back());
  }
  SyncFiles(temp_paths);
  for (size_t i = 0; i < files.size(); ++i) {
    if (std::rename(temp_paths[i].c_str(), files[i].first.c_str()) != 0) {
      Fail("rename to final name", temp_paths[i]);
    }
  }
}

}  // namespace needle
