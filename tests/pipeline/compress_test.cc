#include "pipeline/compress.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>

#include "pipeline/byte_source.h"

namespace needle {
namespace {

namespace fs = std::filesystem;

// Deterministic English-like text, long enough to span several zstd blocks.
std::string SampleText(size_t bytes) {
  static constexpr std::string_view kWords[] = {"an",
                                                "investigation",
                                                "of",
                                                "Atlanta's",
                                                "recent",
                                                "primary",
                                                "election",
                                                "produced",
                                                "no",
                                                "evidence",
                                                "that",
                                                "any",
                                                "irregularities",
                                                "took",
                                                "place",
                                                "the",
                                                "jury",
                                                "said"};
  std::string text;
  uint32_t state = 777;
  while (text.size() < bytes) {
    state = state * 1664525u + 1013904223u;  // Numerical Recipes LCG.
    text += kWords[(state >> 16) % std::size(kWords)];
    text += (state >> 8) % 13 == 0 ? ".\n" : " ";
  }
  text.resize(bytes);
  return text;
}

int DefaultLevel(Codec codec) { return codec == Codec::kZstd ? 3 : 6; }

class CompressRoundTripTest : public ::testing::TestWithParam<Codec> {
 protected:
  void SetUp() override {
    std::string pattern =
        (fs::path(::testing::TempDir()) / "compress_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `bytes` to a file and reads it back through ByteSource, as the
  // next run of the pipeline would read this one's output.
  std::string ReadBack(std::string_view bytes, std::string* fault) {
    fs::path path =
        dir_ / (std::string("out.jsonl") + CodecExtension(GetParam()));
    std::ofstream(path, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::string error;
    std::unique_ptr<ByteSource> source = ByteSource::Open(path, &error);
    EXPECT_NE(source, nullptr) << error;
    if (source == nullptr) return "";
    EXPECT_EQ(source->codec(), GetParam());
    std::string text;
    char buffer[65536];
    while (size_t n = source->Read(buffer, sizeof buffer)) {
      text.append(buffer, n);
    }
    *fault = source->fault();
    return text;
  }

  fs::path dir_;
};

TEST_P(CompressRoundTripTest, ReadsBackTwoBatchesAsTheirConcatenation) {
  std::string first = SampleText(300'000);
  std::string second = "{\"text\":\"the second batch\"}\n";
  std::string file;
  AppendCompressedFrame(GetParam(), DefaultLevel(GetParam()), first, &file);
  AppendCompressedFrame(GetParam(), DefaultLevel(GetParam()), second, &file);
  std::string fault;
  EXPECT_EQ(ReadBack(file, &fault), first + second);
  EXPECT_EQ(fault, "");
}

// The pipeline still writes a batch whose documents were all rejected.
TEST_P(CompressRoundTripTest, ReadsBackEmptyBatchBetweenOthers) {
  std::string file;
  AppendCompressedFrame(GetParam(), DefaultLevel(GetParam()), "a\n", &file);
  AppendCompressedFrame(GetParam(), DefaultLevel(GetParam()), "", &file);
  AppendCompressedFrame(GetParam(), DefaultLevel(GetParam()), "b\n", &file);
  std::string fault;
  EXPECT_EQ(ReadBack(file, &fault), "a\nb\n");
  EXPECT_EQ(fault, "");
}

TEST_P(CompressRoundTripTest, KeepsBytesAlreadyInOutput) {
  std::string file = "already written";
  AppendCompressedFrame(GetParam(), DefaultLevel(GetParam()), "new batch",
                        &file);
  EXPECT_TRUE(std::string_view(file).starts_with("already written"));
}

// The output of a run must not depend on which worker compressed a batch,
// nor on what that worker's reused context compressed before.
TEST_P(CompressRoundTripTest, IsDeterministicAcrossCallsAndThreads) {
  const Codec codec = GetParam();
  std::string text = SampleText(200'000);
  std::string first;
  AppendCompressedFrame(codec, DefaultLevel(codec), text, &first);

  std::string after_other_level;
  AppendCompressedFrame(codec, 1, SampleText(1'000), &after_other_level);
  after_other_level.clear();
  AppendCompressedFrame(codec, DefaultLevel(codec), text, &after_other_level);
  EXPECT_EQ(after_other_level, first);

  std::string on_other_thread;
  std::thread worker([&] {
    AppendCompressedFrame(codec, DefaultLevel(codec), text, &on_other_thread);
  });
  worker.join();
  EXPECT_EQ(on_other_thread, first);
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, CompressRoundTripTest,
                         ::testing::Values(Codec::kPlain, Codec::kGzip,
                                           Codec::kZstd),
                         [](const ::testing::TestParamInfo<Codec>& info) {
                           return std::string(CodecName(info.param));
                         });

TEST(CompressTest, AppendsPlainInputUnchanged) {
  std::string out = "x";
  AppendCompressedFrame(Codec::kPlain, 0, "abc\n", &out);
  EXPECT_EQ(out, "xabc\n");
}

// gzip(1) -n does the same: no name, mtime 0, so equal input gives equal
// files whatever the clock says.
TEST(CompressTest, WritesGzipHeaderWithoutTimestampOrName) {
  std::string out;
  AppendCompressedFrame(Codec::kGzip, 6, "abc\n", &out);
  ASSERT_GE(out.size(), 10u);
  EXPECT_EQ(out.substr(0, 4), std::string("\x1f\x8b\x08\x00", 4));  // No FNAME.
  EXPECT_EQ(out.substr(4, 4), std::string(4, '\0'));                // MTIME.
}

TEST(CompressTest, WritesZstdFrameMagic) {
  std::string out;
  AppendCompressedFrame(Codec::kZstd, 3, "abc\n", &out);
  EXPECT_EQ(out.substr(0, 4), "\x28\xb5\x2f\xfd");
}

TEST(CompressTest, NamesExtensions) {
  EXPECT_STREQ(CodecExtension(Codec::kPlain), "");
  EXPECT_STREQ(CodecExtension(Codec::kGzip), ".gz");
  EXPECT_STREQ(CodecExtension(Codec::kZstd), ".zst");
}

}  // namespace
}  // namespace needle
