#include "pipeline/shard_record.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace needle {
namespace {

using testing::MakeTempDir;
using testing::WriteFile;

ShardRecord RecordWithLanguages() {
  ShardRecord record;
  record.name = "a.jsonl";
  record.path = "/data/a.jsonl";
  record.xxh3 = "0123456789abcdef";
  record.codec = "none";
  record.config_hash = "fedcba9876543210";
  record.counters.docs = 3;
  record.counters.languages["en"] = {2, 300, 70, 1, 100, 20};
  record.counters.languages["de"] = {1, 50, 0, 1, 50, 0};
  return record;
}

TEST(ShardRecordTest, LanguagesAreWrittenSortedAndReadBack) {
  const ShardRecord record = RecordWithLanguages();
  const std::string json = ShardRecordJson(record);
  EXPECT_NE(
      json.find(R"("languages":{"de":{"docs":1,"bytes":50,"tokens":0,)"
                R"("kept_docs":1,"kept_bytes":50,"kept_tokens":0},"en":)"),
      std::string::npos)
      << json;
  const std::string path = MakeTempDir() + "/a.json";
  WriteFile(path, json);
  const std::optional<ShardRecord> read = ReadShardRecord(path);
  ASSERT_TRUE(read.has_value());
  ASSERT_EQ(read->counters.languages.size(), 2u);
  const LanguageCounts& en = read->counters.languages.at("en");
  EXPECT_EQ(en.docs, 2u);
  EXPECT_EQ(en.bytes, 300u);
  EXPECT_EQ(en.tokens, 70u);
  EXPECT_EQ(en.kept_docs, 1u);
  EXPECT_EQ(en.kept_bytes, 100u);
  EXPECT_EQ(en.kept_tokens, 20u);
  EXPECT_EQ(ShardRecordJson(*read), json);
}

TEST(ShardRecordTest, RecordWithoutLanguagesStillReads) {
  ShardRecord record = RecordWithLanguages();
  record.counters.languages.clear();
  std::string json = ShardRecordJson(record);
  const std::string empty = R"(,"languages":{})";
  ASSERT_NE(json.find(empty), std::string::npos) << json;
  json.erase(json.find(empty), empty.size());
  const std::string path = MakeTempDir() + "/a.json";
  WriteFile(path, json);
  const std::optional<ShardRecord> read = ReadShardRecord(path);
  ASSERT_TRUE(read.has_value());
  EXPECT_TRUE(read->counters.languages.empty());
  EXPECT_EQ(read->counters.docs, 3u);
}

TEST(ShardRecordTest, MalformedLanguageCountsMakeTheRecordUnreadable) {
  std::string json = ShardRecordJson(RecordWithLanguages());
  const size_t at = json.find(R"("tokens":70)");
  ASSERT_NE(at, std::string::npos);
  json.replace(at, 11, R"("tokens":"x")");
  const std::string path = MakeTempDir() + "/a.json";
  WriteFile(path, json);
  EXPECT_FALSE(ReadShardRecord(path).has_value());
}

TEST(ShardRecordTest, CountersAddLanguagesByName) {
  ShardCounters total;
  ShardCounters batch;
  batch.languages["en"] = {1, 10, 3, 1, 10, 3};
  total.Add(batch);
  batch.languages["fr"] = {2, 20, 0, 0, 0, 0};
  total.Add(batch);
  ASSERT_EQ(total.languages.size(), 2u);
  EXPECT_EQ(total.languages.at("en").docs, 2u);
  EXPECT_EQ(total.languages.at("en").kept_tokens, 6u);
  EXPECT_EQ(total.languages.at("fr").bytes, 20u);
}

}  // namespace
}  // namespace needle
