#include "pipeline/byte_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <new>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace needle {
namespace {

// Raw bytes held at once: enough to amortize read() calls, small enough
// that a reader thread per shard stays cheap.
constexpr size_t kRawBufferBytes = size_t{1} << 20;

constexpr unsigned char kGzipMagic[] = {0x1f, 0x8b};
constexpr unsigned char kZstdMagic[] = {0x28, 0xb5, 0x2f, 0xfd};

// std::strerror may share a static buffer between threads; this does not.
std::string ErrnoMessage(int err) {
  return std::error_code(err, std::generic_category()).message();
}

bool StartsWith(const char* data, size_t size, const unsigned char* magic,
                size_t magic_size) {
  return size >= magic_size && std::memcmp(data, magic, magic_size) == 0;
}

// Closes the descriptor even when RawFile's constructor throws.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { ::close(fd_); }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// The open file: a window of unconsumed raw bytes over a bounded buffer.
// Every byte read from the file is hashed and counted as it arrives, so the
// checksum covers the file whatever the decoder later makes of it.
class RawFile {
 public:
  explicit RawFile(int fd)
      : fd_(fd), buffer_(new char[kRawBufferBytes]), hash_(XXH3_createState()) {
    if (hash_ == nullptr) throw std::bad_alloc();
    XXH3_64bits_reset(hash_.get());
  }

  const char* data() const { return buffer_.get() + begin_; }
  size_t available() const { return end_ - begin_; }
  void Consume(size_t n) { begin_ += n; }
  bool eof() const { return eof_; }
  // errno of the failed read(); 0 while reads succeed.
  int read_errno() const { return read_errno_; }
  uint64_t bytes_read() const { return bytes_read_; }

  // Buffers at least `min_bytes` unconsumed bytes unless the file ends
  // first. Returns false on a read error.
  bool Fill(size_t min_bytes) {
    if (available() >= min_bytes) return true;
    if (begin_ > 0) {
      std::memmove(buffer_.get(), data(), available());
      end_ -= begin_;
      begin_ = 0;
    }
    while (available() < min_bytes && !eof_) {
      size_t n = ReadInto(buffer_.get() + end_, kRawBufferBytes - end_);
      if (read_errno_ != 0) return false;
      end_ += n;
    }
    return true;
  }

  // Bypasses the buffer, for the plain codec: the caller's memory is the
  // only copy. Call only once the buffer is empty. Returns 0 at EOF or on
  // a read error.
  size_t ReadDirect(char* out, size_t capacity) {
    return ReadInto(out, capacity);
  }

  // Reads and hashes the rest of the file, discarding it. Stops at a read
  // error, which leaves the checksum short of the whole file.
  void Drain() {
    begin_ = end_ = 0;
    while (!eof_ && read_errno_ == 0) {
      ReadInto(buffer_.get(), kRawBufferBytes);
    }
  }

  uint64_t Digest() const { return XXH3_64bits_digest(hash_.get()); }

 private:
  struct HashDeleter {
    void operator()(XXH3_state_t* state) const { XXH3_freeState(state); }
  };

  size_t ReadInto(char* out, size_t capacity) {
    if (eof_ || read_errno_ != 0) return 0;
    // Linux caps one read() at about 2 GiB anyway; SSIZE_MAX keeps the
    // result representable.
    capacity = std::min<size_t>(capacity, SSIZE_MAX);
    ssize_t n;
    do {
      n = ::read(fd_.get(), out, capacity);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      read_errno_ = errno;
      return 0;
    }
    if (n == 0) {
      eof_ = true;
      return 0;
    }
    XXH3_64bits_update(hash_.get(), out, static_cast<size_t>(n));
    bytes_read_ += static_cast<uint64_t>(n);
    return static_cast<size_t>(n);
  }

  UniqueFd fd_;
  std::unique_ptr<char[]> buffer_;
  std::unique_ptr<XXH3_state_t, HashDeleter> hash_;
  size_t begin_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  int read_errno_ = 0;
  uint64_t bytes_read_ = 0;
};

// Shared by the three codecs: the end-of-stream protocol. Decode() fills
// `out` and returns 0 only once the stream is over, cleanly or at a fault.
class FileSource : public ByteSource {
 public:
  FileSource(Codec codec, std::unique_ptr<RawFile> file)
      : file_(std::move(file)) {
    codec_ = codec;
    raw_bytes_read_ = file_->bytes_read();
  }

  size_t Read(char* out, size_t capacity) final {
    // Returning 0 would announce the end, so an empty request reads nothing
    // rather than ending the stream.
    if (capacity == 0) return 0;
    size_t n = ended_ ? 0 : Decode(out, capacity);
    if (n == 0) Finish();
    raw_bytes_read_ = file_->bytes_read();
    return n;
  }

 protected:
  virtual size_t Decode(char* out, size_t capacity) = 0;

  RawFile& file() { return *file_; }

  // Stops decoding for good. The bytes already in `out` are still returned.
  void End() { ended_ = true; }
  void Fault(std::string message) {
    fault_ = std::move(message);
    End();
  }
  void ReadFault() {
    Fault("read error: " + ErrnoMessage(file_->read_errno()));
  }

 private:
  // Hashes what a fault left unread, so raw_xxh3 is the whole file's.
  void Finish() {
    ended_ = true;
    if (finished_) return;
    finished_ = true;
    file_->Drain();
    if (file_->read_errno() != 0 && fault_.empty()) ReadFault();
    raw_xxh3_ = file_->Digest();
  }

  std::unique_ptr<RawFile> file_;
  bool ended_ = false;
  bool finished_ = false;
};

class PlainSource final : public FileSource {
 public:
  explicit PlainSource(std::unique_ptr<RawFile> file)
      : FileSource(Codec::kPlain, std::move(file)) {}

 private:
  size_t Decode(char* out, size_t capacity) override {
    // The bytes sniffed by Open() come first; after them, read() straight
    // into `out`.
    if (file().available() > 0) {
      size_t n = std::min(capacity, file().available());
      std::memcpy(out, file().data(), n);
      file().Consume(n);
      return n;
    }
    size_t n = file().ReadDirect(out, capacity);
    if (file().read_errno() != 0) {
      ReadFault();
    } else if (n == 0) {
      End();
    }
    return n;
  }
};

class GzipSource final : public FileSource {
 public:
  explicit GzipSource(std::unique_ptr<RawFile> file)
      : FileSource(Codec::kGzip, std::move(file)) {
    // 16 + MAX_WBITS: gzip wrapper only, so a zlib or raw deflate stream
    // is reported as corrupt instead of half-accepted.
    int ret = inflateInit2(&stream_, 16 + MAX_WBITS);
    if (ret == Z_MEM_ERROR) throw std::bad_alloc();
    if (ret != Z_OK) {
      throw std::runtime_error(std::string("inflateInit2: ") + zError(ret));
    }
  }
  ~GzipSource() override { inflateEnd(&stream_); }

 private:
  size_t Decode(char* out, size_t capacity) override {
    stream_.next_out = reinterpret_cast<Bytef*>(out);
    stream_.avail_out = static_cast<uInt>(std::min<size_t>(capacity, UINT_MAX));
    const Bytef* first_out = stream_.next_out;
    while (stream_.avail_out > 0) {
      if (file().available() == 0 && !file().eof() && !file().Fill(1)) {
        ReadFault();
        break;
      }
      stream_.next_in =
          reinterpret_cast<Bytef*>(const_cast<char*>(file().data()));
      stream_.avail_in = static_cast<uInt>(file().available());
      int ret = inflate(&stream_, Z_NO_FLUSH);
      file().Consume(file().available() - stream_.avail_in);
      if (ret == Z_OK) continue;
      if (ret == Z_STREAM_END) {
        if (!StartNextMember()) break;
        continue;
      }
      // With output space left, no progress means the input ran out: we
      // refill before every call, so the file is at EOF mid-member.
      if (ret == Z_BUF_ERROR) {
        Fault("truncated gzip stream");
        break;
      }
      if (ret == Z_MEM_ERROR) throw std::bad_alloc();
      Fault(std::string("corrupt gzip stream: ") +
            (stream_.msg != nullptr ? stream_.msg : zError(ret)));
      break;
    }
    return static_cast<size_t>(stream_.next_out - first_out);
  }

  // At the end of a member: another member follows (as in `cat a.gz b.gz`),
  // the file ends, or what follows is not gzip at all. Returns true when
  // decoding goes on.
  bool StartNextMember() {
    if (!file().Fill(sizeof kGzipMagic)) {
      ReadFault();
      return false;
    }
    if (file().available() == 0) {
      End();
      return false;
    }
    if (!StartsWith(file().data(), file().available(), kGzipMagic,
                    sizeof kGzipMagic)) {
      // gzip(1) warns and ignores such bytes (often tape padding); we keep
      // the decoded data but flag the shard, since we cannot tell padding
      // from a damaged member.
      Fault("trailing garbage after gzip member");
      return false;
    }
    inflateReset(&stream_);
    return true;
  }

  z_stream stream_{};
};

class ZstdSource final : public FileSource {
 public:
  explicit ZstdSource(std::unique_ptr<RawFile> file)
      : FileSource(Codec::kZstd, std::move(file)), dctx_(ZSTD_createDCtx()) {
    if (dctx_ == nullptr) throw std::bad_alloc();
  }

 private:
  struct DCtxDeleter {
    void operator()(ZSTD_DCtx* dctx) const { ZSTD_freeDCtx(dctx); }
  };

  size_t Decode(char* out, size_t capacity) override {
    ZSTD_outBuffer output = {out, capacity, 0};
    while (output.pos < output.size) {
      if (file().available() == 0 && !file().eof() && !file().Fill(1)) {
        ReadFault();
        break;
      }
      ZSTD_inBuffer input = {file().data(), file().available(), 0};
      size_t out_before = output.pos;
      size_t ret = ZSTD_decompressStream(dctx_.get(), &output, &input);
      file().Consume(input.pos);
      if (ZSTD_isError(ret)) {
        Fault(std::string("corrupt zstd stream: ") + ZSTD_getErrorName(ret));
        break;
      }
      if (input.pos > 0 || output.pos > out_before) {
        // 0 exactly when a frame is decoded and fully flushed. A call that
        // moves nothing returns a hint, not this, so only progress counts.
        between_frames_ = ret == 0;
        continue;
      }
      // No progress with room to write: we refill before every call, so the
      // input is exhausted at EOF.
      if (between_frames_) {
        End();
      } else {
        Fault("truncated zstd stream");
      }
      break;
    }
    return output.pos;
  }

  std::unique_ptr<ZSTD_DCtx, DCtxDeleter> dctx_;
  // The last frame ended and no byte of another has arrived.
  bool between_frames_ = false;
};

}  // namespace

const char* CodecName(Codec codec) {
  switch (codec) {
    case Codec::kPlain:
      return "none";
    case Codec::kGzip:
      return "gzip";
    case Codec::kZstd:
      return "zstd";
  }
  return "unknown";
}

std::unique_ptr<ByteSource> ByteSource::Open(const std::string& path,
                                             std::string* error) {
  auto fail = [error](const char* what, int err) {
    if (error != nullptr) *error = what + ErrnoMessage(err);
    return nullptr;
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail("cannot open: ", errno);
  auto file = std::make_unique<RawFile>(fd);
  // open() accepts a directory; say so here rather than at the first read.
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    return fail("cannot open: ", EISDIR);
  }
  // Four bytes tell the codec; a shorter file can only be plain (or a
  // truncated gzip header, which the decoder reports).
  if (!file->Fill(sizeof kZstdMagic)) {
    return fail("cannot read: ", file->read_errno());
  }
  if (StartsWith(file->data(), file->available(), kGzipMagic,
                 sizeof kGzipMagic)) {
    return std::make_unique<GzipSource>(std::move(file));
  }
  if (StartsWith(file->data(), file->available(), kZstdMagic,
                 sizeof kZstdMagic)) {
    return std::make_unique<ZstdSource>(std::move(file));
  }
  return std::make_unique<PlainSource>(std::move(file));
}

void ThrowReadError(const std::string& path, const std::string& why) {
  throw std::runtime_error(path + ": " + why);
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

std::string ReadDecompressed(const std::string& path) {
  std::string bytes;
  ForEachChunk(path, [&](std::string_view chunk) { bytes.append(chunk); });
  return bytes;
}

}  // namespace needle
