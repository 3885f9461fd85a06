#include "pipeline/shard_reader.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace needle {
namespace {

using testing::DataPath;
using testing::Lines;
using testing::MakeTempDir;
using testing::ReadFile;
using testing::WriteFile;

Shard ShardAt(const std::string& path) {
  Shard shard;
  shard.path = path;
  shard.name = path.substr(path.rfind('/') + 1);
  shard.stem = ShardStem(shard.name);
  return shard;
}

// Reads a whole shard; returns every document from every batch.
struct ReadResult {
  std::vector<Document> docs;
  std::vector<std::string> raws;
  std::vector<std::string> details;
  ShardCounters counters;
  size_t batches = 0;
};

ReadResult ReadAll(const std::string& path, const InputOptions& options) {
  const Shard shard = ShardAt(path);
  ShardReader reader(shard, options);
  ReadResult result;
  bool more = true;
  while (more) {
    Batch batch;
    more = reader.Next(&batch);
    ++result.batches;
    for (const Document& doc : batch.docs) {
      result.docs.push_back(doc);
      result.raws.emplace_back(doc.raw);
      result.details.emplace_back(doc.detail);
    }
    result.counters.Add(batch.counters);
  }
  return result;
}

TEST(ShardReaderTest, SplitsLinesAcrossBatchesWithoutLosingAny) {
  InputOptions options;
  options.batch_bytes = 300;  // several batches, lines cut by batch ends
  const ReadResult result = ReadAll(DataPath("reader/good.jsonl"), options);
  const auto expected = Lines(ReadFile(DataPath("reader/good.jsonl")));
  EXPECT_EQ(result.raws, expected);
  EXPECT_GT(result.batches, 2u);
  EXPECT_EQ(result.counters.lines, 6u);
  EXPECT_EQ(result.counters.bytes, 1475u);
  uint64_t offset = 0;
  for (size_t i = 0; i < result.docs.size(); ++i) {
    EXPECT_EQ(result.docs[i].line, i + 1);
    EXPECT_EQ(result.docs[i].offset, offset);
    offset += expected[i].size() + 1;
  }
}

TEST(ShardReaderTest, ReadsGzipAndZstdShardsToTheSameLines) {
  const InputOptions options;
  const auto plain = ReadAll(DataPath("reader/good.jsonl"), options).raws;
  EXPECT_EQ(ReadAll(DataPath("reader/good.jsonl.gz"), options).raws, plain);
  EXPECT_EQ(ReadAll(DataPath("reader/good.jsonl.zst"), options).raws, plain);
}

TEST(ShardReaderTest, CountsBlankLinesWithoutMakingDocuments) {
  const ReadResult result =
      ReadAll(DataPath("reader/blank_lines.jsonl"), InputOptions());
  ASSERT_EQ(result.docs.size(), 2u);
  EXPECT_EQ(result.docs[1].line, 4u);
  EXPECT_EQ(result.counters.lines, 4u);
  EXPECT_EQ(result.counters.blank_lines, 2u);
}

TEST(ShardReaderTest, CutsOverlongLineToQuarantineSizeAndGoesOn) {
  InputOptions options;
  options.max_line_bytes = 1000;
  const ReadResult result =
      ReadAll(DataPath("reader/long_line.jsonl"), options);
  ASSERT_EQ(result.docs.size(), 3u);
  EXPECT_EQ(result.docs[0].reason, Reason::kOk);
  EXPECT_EQ(result.docs[1].reason, Reason::kLineTooLong);
  EXPECT_EQ(result.raws[1].size(), 1099u);  // under 4 KiB: kept whole
  EXPECT_EQ(result.docs[2].reason, Reason::kOk);
  EXPECT_EQ(result.docs[2].line, 3u);
}

TEST(ShardReaderTest, NeverHoldsMoreThanFourKiBOfAnOverlongLine) {
  const std::string dir = MakeTempDir();
  const std::string huge(3 << 20, 'x');  // 3 MiB, read in 1 MiB chunks
  WriteFile(dir + "/huge.jsonl", "{\"text\":\"a\"}\n" + huge + "\n{}\n");
  InputOptions options;
  options.max_line_bytes = 1 << 20;
  const ReadResult result = ReadAll(dir + "/huge.jsonl", options);
  ASSERT_EQ(result.docs.size(), 3u);
  EXPECT_EQ(result.docs[1].reason, Reason::kLineTooLong);
  EXPECT_EQ(result.raws[1].size(), kQuarantineRawBytes);
  EXPECT_EQ(result.docs[2].offset, 13u + huge.size() + 1);
}

TEST(ShardReaderTest, KeepsLinesBeforeGzipTruncationAndRecordsTheCut) {
  const ReadResult result =
      ReadAll(DataPath("reader/truncated-gzip.jsonl.gz"), InputOptions());
  const auto good = Lines(ReadFile(DataPath("reader/good.jsonl")));
  ASSERT_EQ(result.docs.size(), 4u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(result.raws[i], good[i]);
  EXPECT_EQ(result.docs[3].reason, Reason::kTruncatedStream);
  EXPECT_TRUE(good[3].starts_with(result.raws[3]));
  EXPECT_FALSE(result.raws[3].empty());
  EXPECT_EQ(result.details[3], "truncated gzip stream");
}

TEST(ShardReaderTest, RecordsZstdTruncationBetweenFrames) {
  const ReadResult result =
      ReadAll(DataPath("reader/truncated-zstd.jsonl.zst"), InputOptions());
  ASSERT_EQ(result.docs.size(), 4u);
  EXPECT_EQ(result.docs[3].reason, Reason::kTruncatedStream);
  EXPECT_EQ(result.docs[3].line, 4u);
  EXPECT_EQ(result.details[3], "truncated zstd stream");
}

TEST(ShardReaderTest, UnreadableFileBecomesOneFaultDocument) {
  const std::string dir = MakeTempDir();  // a directory cannot be read
  const ReadResult result = ReadAll(dir, InputOptions());
  ASSERT_EQ(result.docs.size(), 1u);
  EXPECT_EQ(result.docs[0].reason, Reason::kUnreadableFile);
  EXPECT_EQ(result.details[0], "cannot open: Is a directory");
}

TEST(ShardReaderTest, LastLineWithoutNewlineIsADocument) {
  const std::string dir = MakeTempDir();
  WriteFile(dir + "/a.jsonl", "{\"text\":\"a\"}\n{\"text\":\"b\"}");
  const ReadResult result = ReadAll(dir + "/a.jsonl", InputOptions());
  ASSERT_EQ(result.raws.size(), 2u);
  EXPECT_EQ(result.raws[1], "{\"text\":\"b\"}");
}

}  // namespace
}  // namespace needle
