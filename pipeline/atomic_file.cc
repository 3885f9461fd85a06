#include "pipeline/atomic_file.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

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
}

  bytes_appended_ += bytes.size();
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

}  // namespace needle
