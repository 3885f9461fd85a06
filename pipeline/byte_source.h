#pragma once
// Decompressed bytes of one input shard, read in bounded chunks.
//
// The codec is sniffed from the first bytes of the file (gzip 1f 8b, zstd
// 28 b5 2f fd), never from its name, so a mislabeled shard still reads. A
// fault in the middle of a compressed stream (truncation, corruption) keeps
// every byte that decoded before it: Read() returns them, then 0, and
// fault() describes what went wrong. Concatenated gzip members and zstd
// frames are read as one stream, as gzip(1) and zstd(1) do.
//
// Alongside decoding, the source hashes the file's raw (compressed) bytes
// with xxh3-64, so run.json can record a checksum without a second pass.
// Not thread-safe: one reader thread owns a source.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace needle {

enum class Codec : uint8_t { kPlain, kGzip, kZstd };

// "none", "gzip", "zstd": the spelling used in config and run.json.
const char* CodecName(Codec codec);

class ByteSource {
 public:
  // Opens `path` and sniffs its codec. Returns nullptr and sets `*error`
  // (e.g. "cannot open: No such file or directory") when the file cannot
  // be opened or read.
  static std::unique_ptr<ByteSource> Open(const std::string& path,
                                          std::string* error);
  virtual ~ByteSource() = default;

  // Copies up to `capacity` decompressed bytes into `out` and returns how
  // many; 0 means the stream ended (cleanly or at a fault: see fault()).
  virtual size_t Read(char* out, size_t capacity) = 0;

  // Empty while the stream is healthy; after a fault, a short description
  // such as "truncated gzip stream" or "corrupt zstd stream: <zstd error>".
  const std::string& fault() const { return fault_; }
  Codec codec() const { return codec_; }
  // Raw file bytes consumed so far (for progress against the file size).
  uint64_t raw_bytes_read() const { return raw_bytes_read_; }
  // xxh3-64 of the whole file. Valid once Read() has returned 0: the
  // source hashes any bytes left after a fault before reporting the end.
  uint64_t raw_xxh3() const { return raw_xxh3_; }

 protected:
  std::string fault_;
  Codec codec_ = Codec::kPlain;
  uint64_t raw_bytes_read_ = 0;
  uint64_t raw_xxh3_ = 0;
};

// The whole decompressed content of `path`. Throws std::runtime_error
// ("<path>: <why>") when it cannot be opened or its stream is faulty: for
// the run's own files, where a fault means the run directory is damaged.
std::string ReadDecompressed(const std::string& path);

// The bytes of `path` as stored (never decompressed), or "" when it does not
// exist or cannot be read: for markers and small files the run writes whole
// (AtomicFile), where absence is an answer, not an error.
std::string ReadFileOrEmpty(const std::string& path);

// Throws std::runtime_error("<path>: <why>"): the readers' one message form.
[[noreturn]] void ThrowReadError(const std::string& path,
                                 const std::string& why);

// Calls `on_chunk(bytes)` for each piece of `path`'s decompressed content,
// in order, each a view valid during the call. Throws as ReadDecompressed.
template <class OnChunk>
void ForEachChunk(const std::string& path, OnChunk on_chunk) {
  std::string error;
  const std::unique_ptr<ByteSource> source = ByteSource::Open(path, &error);
  if (!source) ThrowReadError(path, error);
  std::string buffer(1 << 16, '\0');
  while (const size_t n = source->Read(buffer.data(), buffer.size())) {
    on_chunk(std::string_view(buffer.data(), n));
  }
  if (!source->fault().empty()) ThrowReadError(path, source->fault());
}

// Calls `on_line(line)` for each line of `path` (any codec), without its
// '\n', holding only one read chunk and the current line in memory. A last
// line without '\n' is passed too. Throws as ReadDecompressed does.
template <class OnLine>
void ForEachLine(const std::string& path, OnLine on_line) {
  std::string pending;
  ForEachChunk(path, [&](std::string_view chunk) {
    pending.append(chunk);
    size_t start = 0;
    for (size_t end; (end = pending.find('\n', start)) != std::string::npos;
         start = end + 1) {
      on_line(std::string_view(pending).substr(start, end - start));
    }
    pending.erase(0, start);
  });
  if (!pending.empty()) on_line(std::string_view(pending));
}

}  // namespace needle
