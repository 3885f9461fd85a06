#include "pipeline/compress.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

namespace needle {
namespace {

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* cctx) const { ZSTD_freeCCtx(cctx); }
};

void AppendZstdFrame(int level, std::string_view input, std::string* out) {
  // One context per worker thread, reused across batches: creating one
  // costs more than compressing a small batch. ZSTD_compressCCtx resets
  // every parameter from `level`, so no state leaks between calls.
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> cctx(ZSTD_createCCtx());
  if (cctx == nullptr) throw std::bad_alloc();
  const size_t start = out->size();
  const size_t bound = ZSTD_compressBound(input.size());
  out->resize(start + bound);
  size_t n = ZSTD_compressCCtx(cctx.get(), out->data() + start, bound,
                               input.data(), input.size(), level);
  if (ZSTD_isError(n)) {
    out->resize(start);
    throw std::runtime_error(std::string("zstd compression failed: ") +
                             ZSTD_getErrorName(n));
  }
  out->resize(start + n);
}

// deflateEnd on every path, exceptions included.
struct DeflateStream {
  z_stream z{};
  ~DeflateStream() { deflateEnd(&z); }
};

void AppendGzipMember(int level, std::string_view input, std::string* out) {
  DeflateStream stream;
  z_stream& z = stream.z;
  // 16 + MAX_WBITS asks for a gzip wrapper. With no deflateSetHeader the
  // header has mtime 0 and no file name, so the bytes depend only on the
  // input and the level.
  int ret = deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8,
                         Z_DEFAULT_STRATEGY);
  if (ret == Z_MEM_ERROR) throw std::bad_alloc();
  if (ret != Z_OK) {
    throw std::runtime_error(std::string("deflateInit2 failed: ") +
                             zError(ret));
  }
  const size_t start = out->size();
  size_t pos = start;
  out->resize(start + deflateBound(&z, input.size()));
  const char* in = input.data();
  size_t in_left = input.size();
  // avail_in and avail_out are 32-bit: feed and drain in pieces so that
  // no input size is out of range. A batch normally fits in one call.
  do {
    if (z.avail_in == 0 && in_left > 0) {
      uInt take = static_cast<uInt>(std::min<size_t>(in_left, UINT_MAX));
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in));
      z.avail_in = take;
      in += take;
      in_left -= take;
    }
    if (pos == out->size()) out->resize(out->size() + out->size() / 2 + 64);
    z.next_out = reinterpret_cast<Bytef*>(out->data() + pos);
    z.avail_out =
        static_cast<uInt>(std::min<size_t>(out->size() - pos, UINT_MAX));
    ret = deflate(&z, in_left == 0 ? Z_FINISH : Z_NO_FLUSH);
    pos =
        static_cast<size_t>(reinterpret_cast<char*>(z.next_out) - out->data());
    if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) {
      out->resize(start);
      throw std::runtime_error(std::string("gzip compression failed: ") +
                               zError(ret));
    }
  } while (ret != Z_STREAM_END);
  out->resize(pos);
}

}  // namespace

void AppendCompressedFrame(Codec codec, int level, std::string_view input,
                           std::string* out) {
  switch (codec) {
    case Codec::kPlain:
      out->append(input);
      return;
    case Codec::kGzip:
      AppendGzipMember(level, input, out);
      return;
    case Codec::kZstd:
      AppendZstdFrame(level, input, out);
      return;
  }
  throw std::invalid_argument("AppendCompressedFrame: unknown codec");
}

std::string EmptyStream(Codec codec, int level) {
  std::string stream;
  AppendCompressedFrame(codec, level, "", &stream);
  return stream;
}

const char* CodecExtension(Codec codec) {
  switch (codec) {
    case Codec::kPlain:
      return "";
    case Codec::kGzip:
      return ".gz";
    case Codec::kZstd:
      return ".zst";
  }
  return "";
}

}  // namespace needle
