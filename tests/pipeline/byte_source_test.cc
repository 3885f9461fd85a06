#include "pipeline/byte_source.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <xxhash.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "pipeline/compress.h"

// The build passes the source tree's tests/data; a hand build run from the
// repository root finds it relative to the working directory.
#ifndef NEEDLE_TEST_DATA_DIR
#define NEEDLE_TEST_DATA_DIR "tests/data"
#endif

namespace needle {
namespace {

namespace fs = std::filesystem;

std::string ReadFileBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string FixturePath(const std::string& name) {
  return std::string(NEEDLE_TEST_DATA_DIR) + "/byte_source/" + name;
}

// Deterministic English-like text: compressible, but varied enough that
// `bytes` of it spans several zstd blocks (128 KiB of content each).
std::string SampleText(size_t bytes) {
  static constexpr std::string_view kWords[] = {
      "the",   "jury",     "said", "it",        "did",    "find",
      "that",  "many",     "of",   "Georgia's", "laws",   "are",
      "often", "outmoded", "and",  "ambiguous", "county", "election"};
  std::string text;
  uint32_t state = 12345;
  while (text.size() < bytes) {
    state = state * 1664525u + 1013904223u;  // Numerical Recipes LCG.
    text += kWords[(state >> 16) % std::size(kWords)];
    text += (state >> 8) % 11 == 0 ? ".\n" : " ";
  }
  text.resize(bytes);
  return text;
}

std::string Compress(Codec codec, std::string_view text) {
  std::string out;
  AppendCompressedFrame(codec, codec == Codec::kZstd ? 3 : 6, text, &out);
  return out;
}

struct ReadResult {
  bool opened = false;
  Codec codec = Codec::kPlain;
  std::string bytes;
  std::string fault;
  uint64_t raw_bytes_read = 0;
  uint64_t raw_xxh3 = 0;
};

// Reads `path` to the end through a buffer of `chunk` bytes.
ReadResult ReadAll(const std::string& path, size_t chunk = 4096) {
  ReadResult result;
  std::string error;
  std::unique_ptr<ByteSource> source = ByteSource::Open(path, &error);
  EXPECT_NE(source, nullptr) << error;
  if (source == nullptr) return result;
  result.opened = true;
  result.codec = source->codec();
  std::string buffer(chunk, '\0');
  while (size_t n = source->Read(buffer.data(), buffer.size())) {
    result.bytes.append(buffer.data(), n);
  }
  // Once at the end, the end is sticky.
  EXPECT_EQ(source->Read(buffer.data(), buffer.size()), 0u);
  result.fault = source->fault();
  result.raw_bytes_read = source->raw_bytes_read();
  result.raw_xxh3 = source->raw_xxh3();
  return result;
}

// Magic plus frame header, per RFC 8878 section 3.1.1.1.
size_t ZstdFrameHeaderSize(std::string_view frame) {
  const auto descriptor = static_cast<uint8_t>(frame[4]);
  const bool single_segment = (descriptor >> 5) & 1;
  static constexpr size_t kDictIdBytes[] = {0, 1, 2, 4};
  static constexpr size_t kContentSizeBytes[] = {0, 2, 4, 8};
  size_t content_size_bytes = kContentSizeBytes[descriptor >> 6];
  if (descriptor >> 6 == 0 && single_segment) content_size_bytes = 1;
  return 4 + 1 + (single_segment ? 0 : 1) + kDictIdBytes[descriptor & 3] +
         content_size_bytes;
}

bool IsPrefix(std::string_view prefix, std::string_view text) {
  return text.substr(0, prefix.size()) == prefix;
}

class ByteSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (fs::path(::testing::TempDir()) / "byte_source_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string WriteFile(const std::string& name, std::string_view bytes) {
    fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path.string();
  }

  // Checks the accounting that must hold at the end whatever happened:
  // every raw byte was read and hashed.
  static void ExpectWholeFileHashed(const ReadResult& result,
                                    std::string_view file_bytes) {
    EXPECT_EQ(result.raw_bytes_read, file_bytes.size());
    EXPECT_EQ(result.raw_xxh3,
              XXH3_64bits(file_bytes.data(), file_bytes.size()));
  }

  fs::path dir_;
};

TEST(CodecNameTest, SpellsCodecsAsConfigDoes) {
  EXPECT_STREQ(CodecName(Codec::kPlain), "none");
  EXPECT_STREQ(CodecName(Codec::kGzip), "gzip");
  EXPECT_STREQ(CodecName(Codec::kZstd), "zstd");
}

TEST_F(ByteSourceTest, ReadsPlainFileNamedGzAsPlain) {
  std::string text = SampleText(10'000);
  ReadResult result = ReadAll(WriteFile("shard.jsonl.gz", text));
  EXPECT_EQ(result.codec, Codec::kPlain);
  EXPECT_EQ(result.bytes, text);
  EXPECT_EQ(result.fault, "");
  ExpectWholeFileHashed(result, text);
}

TEST_F(ByteSourceTest, DetectsGzipByMagicDespiteZstName) {
  std::string text = SampleText(10'000);
  std::string file = Compress(Codec::kGzip, text);
  ReadResult result = ReadAll(WriteFile("shard.jsonl.zst", file));
  EXPECT_EQ(result.codec, Codec::kGzip);
  EXPECT_EQ(result.bytes, text);
  EXPECT_EQ(result.fault, "");
  ExpectWholeFileHashed(result, file);
}

TEST_F(ByteSourceTest, DetectsZstdByMagicDespitePlainName) {
  std::string text = SampleText(10'000);
  std::string file = Compress(Codec::kZstd, text);
  ReadResult result = ReadAll(WriteFile("shard.jsonl", file));
  EXPECT_EQ(result.codec, Codec::kZstd);
  EXPECT_EQ(result.bytes, text);
  EXPECT_EQ(result.fault, "");
  ExpectWholeFileHashed(result, file);
}

TEST_F(ByteSourceTest, ReadsPlainFileLargerThanRawBuffer) {
  std::string text = SampleText(3 << 20);
  ReadResult result = ReadAll(WriteFile("big.jsonl", text), 1 << 16);
  EXPECT_EQ(result.bytes, text);
  EXPECT_EQ(result.fault, "");
  ExpectWholeFileHashed(result, text);
}

TEST_F(ByteSourceTest, ReadsEmptyFileAsEmptyPlainStream) {
  ReadResult result = ReadAll(WriteFile("empty.jsonl", ""));
  EXPECT_TRUE(result.opened);
  EXPECT_EQ(result.codec, Codec::kPlain);
  EXPECT_EQ(result.bytes, "");
  EXPECT_EQ(result.fault, "");
  ExpectWholeFileHashed(result, "");
}

TEST_F(ByteSourceTest, ReadsFileShorterThanZstdMagicAsPlain) {
  std::string bytes("\x28\xb5\x2f", 3);
  ReadResult result = ReadAll(WriteFile("short", bytes));
  EXPECT_EQ(result.codec, Codec::kPlain);
  EXPECT_EQ(result.bytes, bytes);
  EXPECT_EQ(result.fault, "");
}

TEST_F(ByteSourceTest, ReportsMissingFile) {
  std::string error;
  EXPECT_EQ(ByteSource::Open((dir_ / "missing.jsonl").string(), &error),
            nullptr);
  EXPECT_EQ(error, "cannot open: No such file or directory");
}

TEST_F(ByteSourceTest, ReportsDirectory) {
  std::string error;
  EXPECT_EQ(ByteSource::Open(dir_.string(), &error), nullptr);
  EXPECT_EQ(error, "cannot open: Is a directory");
}

TEST_F(ByteSourceTest, ReadsConcatenatedGzipMembersAsOneStream) {
  std::string first = SampleText(5'000);
  std::string second = "a second member, as `cat a.gz b.gz` makes\n";
  std::string file = Compress(Codec::kGzip, first) +
                     Compress(Codec::kGzip, "") +
                     Compress(Codec::kGzip, second);
  ReadResult result = ReadAll(WriteFile("cat.gz", file));
  EXPECT_EQ(result.bytes, first + second);
  EXPECT_EQ(result.fault, "");
  ExpectWholeFileHashed(result, file);
}

TEST_F(ByteSourceTest, ReadsConcatenatedZstdFramesAsOneStream) {
  std::string first = SampleText(5'000);
  std::string second = "a second frame, as `cat a.zst b.zst` makes\n";
  std::string file = Compress(Codec::kZstd, first) +
                     Compress(Codec::kZstd, "") +
                     Compress(Codec::kZstd, second);
  ReadResult result = ReadAll(WriteFile("cat.zst", file));
  EXPECT_EQ(result.bytes, first + second);
  EXPECT_EQ(result.fault, "");
  ExpectWholeFileHashed(result, file);
}

// One-byte reads leave output pending inside the decoder at every call; the
// end of input must not be mistaken for truncation while it is flushed.
TEST_F(ByteSourceTest, ReadsCompressedStreamsOneByteAtATime) {
  std::string text = SampleText(300'000);
  for (Codec codec : {Codec::kGzip, Codec::kZstd}) {
    SCOPED_TRACE(CodecName(codec));
    std::string file = Compress(codec, text.substr(0, 1000)) +
                       Compress(codec, text.substr(1000));
    ReadResult result = ReadAll(WriteFile("one-byte", file), 1);
    EXPECT_EQ(result.bytes, text);
    EXPECT_EQ(result.fault, "");
    ExpectWholeFileHashed(result, file);
  }
}

TEST_F(ByteSourceTest, KeepsBytesDecodedBeforeGzipTruncation) {
  std::string text = SampleText(1 << 20);
  std::string full = Compress(Codec::kGzip, text);
  std::string file = full.substr(0, full.size() / 2);
  ReadResult result = ReadAll(WriteFile("cut.gz", file));
  EXPECT_EQ(result.fault, "truncated gzip stream");
  EXPECT_GT(result.bytes.size(), text.size() / 4);
  EXPECT_LT(result.bytes.size(), text.size());
  EXPECT_TRUE(IsPrefix(result.bytes, text));
  ExpectWholeFileHashed(result, file);
}

TEST_F(ByteSourceTest, KeepsBytesDecodedBeforeZstdTruncation) {
  std::string text = SampleText(1 << 20);
  std::string full = Compress(Codec::kZstd, text);
  std::string file = full.substr(0, full.size() / 2);
  ReadResult result = ReadAll(WriteFile("cut.zst", file));
  EXPECT_EQ(result.fault, "truncated zstd stream");
  // zstd emits whole blocks only, so the prefix ends at a block boundary.
  EXPECT_GT(result.bytes.size(), 0u);
  EXPECT_EQ(result.bytes.size() % (128 << 10), 0u);
  EXPECT_LT(result.bytes.size(), text.size());
  EXPECT_TRUE(IsPrefix(result.bytes, text));
  ExpectWholeFileHashed(result, file);
}

TEST_F(ByteSourceTest, ReportsGzipTruncatedInsideHeader) {
  std::string file("\x1f\x8b", 2);
  ReadResult result = ReadAll(WriteFile("magic-only.gz", file));
  EXPECT_EQ(result.codec, Codec::kGzip);
  EXPECT_EQ(result.bytes, "");
  EXPECT_EQ(result.fault, "truncated gzip stream");
  ExpectWholeFileHashed(result, file);
}

// Fixtures cut by head(1) from the output of gzip(1) and zstd(1), so the
// decoder is checked against streams it did not write itself.
TEST_F(ByteSourceTest, KeepsPrefixOfGzipFileTruncatedByHead) {
  std::string text = ReadFileBytes(FixturePath("brown-ca01.txt"));
  ASSERT_EQ(text.size(), 3391u) << "missing fixture; run from repo root?";
  std::string path = FixturePath("brown-ca01-truncated.gz");
  ReadResult result = ReadAll(path);
  EXPECT_EQ(result.codec, Codec::kGzip);
  EXPECT_EQ(result.fault, "truncated gzip stream");
  EXPECT_GT(result.bytes.size(), 1000u);
  EXPECT_TRUE(IsPrefix(result.bytes, text));
  ExpectWholeFileHashed(result, ReadFileBytes(path));
}

TEST_F(ByteSourceTest, KeepsFirstFrameOfZstdFileTruncatedByHead) {
  std::string text = ReadFileBytes(FixturePath("brown-ca01.txt"));
  ASSERT_EQ(text.size(), 3391u) << "missing fixture; run from repo root?";
  std::string path = FixturePath("brown-ca01-truncated.zst");
  ReadResult result = ReadAll(path);
  EXPECT_EQ(result.codec, Codec::kZstd);
  EXPECT_EQ(result.fault, "truncated zstd stream");
  // The first frame holds the first 10 lines; the cut is in the second.
  size_t first_frame_end = 0;
  for (int line = 0; line < 10; ++line) {
    first_frame_end = text.find('\n', first_frame_end) + 1;
  }
  EXPECT_EQ(result.bytes, text.substr(0, first_frame_end));
  ExpectWholeFileHashed(result, ReadFileBytes(path));
}

TEST_F(ByteSourceTest, ReportsCorruptGzipChecksumAfterKeepingData) {
  std::string text = SampleText(100'000);
  std::string file = Compress(Codec::kGzip, text);
  file[file.size() - 8] ^= 0x01;  // The trailer's CRC-32.
  ReadResult result = ReadAll(WriteFile("bad-crc.gz", file));
  EXPECT_EQ(result.fault, "corrupt gzip stream: incorrect data check");
  EXPECT_EQ(result.bytes, text);
  ExpectWholeFileHashed(result, file);
}

TEST_F(ByteSourceTest, ReportsBitFlipInsideGzipData) {
  std::string text = SampleText(100'000);
  std::string file = Compress(Codec::kGzip, text);
  file[file.size() / 2] ^= 0x10;
  ReadResult result = ReadAll(WriteFile("flipped.gz", file));
  EXPECT_TRUE(result.fault.starts_with("corrupt gzip stream: "))
      << result.fault;
  ExpectWholeFileHashed(result, file);
}

TEST_F(ByteSourceTest, ReportsCorruptZstdBlock) {
  std::string first = SampleText(10'000);
  std::string second_frame = Compress(Codec::kZstd, SampleText(20'000));
  // Block type 3 is reserved: the decoder must reject it.
  size_t header = ZstdFrameHeaderSize(second_frame);
  second_frame[header] |= 0x06;
  std::string file = Compress(Codec::kZstd, first) + second_frame;
  ReadResult result = ReadAll(WriteFile("bad-block.zst", file));
  EXPECT_EQ(result.fault, "corrupt zstd stream: Data corruption detected");
  EXPECT_EQ(result.bytes, first);
  ExpectWholeFileHashed(result, file);
}

TEST_F(ByteSourceTest, ReportsTrailingGarbageAfterGzipMember) {
  std::string text = SampleText(10'000);
  std::string file = Compress(Codec::kGzip, text) + std::string(3, '\0');
  ReadResult result = ReadAll(WriteFile("padded.gz", file));
  EXPECT_EQ(result.fault, "trailing garbage after gzip member");
  EXPECT_EQ(result.bytes, text);
  ExpectWholeFileHashed(result, file);
}

// A fault in the first member of a file several raw buffers long: the
// checksum still covers the megabytes after the fault.
TEST_F(ByteSourceTest, HashesWholeFileAfterEarlyFault) {
  std::string file = Compress(Codec::kGzip, SampleText(100)) +
                     SampleText(3 << 20);  // Not a gzip member.
  file[2] = 7;  // Compression method 8 is the only one defined.
  ReadResult result = ReadAll(WriteFile("early-fault.gz", file));
  EXPECT_EQ(result.fault, "corrupt gzip stream: unknown compression method");
  EXPECT_EQ(result.bytes, "");
  ExpectWholeFileHashed(result, file);
}

}  // namespace
}  // namespace needle
