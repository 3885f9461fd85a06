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

}  // namespace needle
