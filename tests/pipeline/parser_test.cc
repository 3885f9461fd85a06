#include "pipeline/parser.h"

#include <gtest/gtest.h>

#include "pipeline/shard_reader.h"
#include "tests/test_util.h"

namespace needle {
namespace {

using testing::DataPath;

// Reads and parses a fixture shard into one batch.
struct Parsed {
  Batch batch;
  const Document& doc(size_t i) const { return batch.docs.at(i); }
};

std::unique_ptr<Parsed> ParseFixture(const std::string& name,
                                     const InputOptions& options = {}) {
  Shard shard;
  shard.path = DataPath("reader/" + name);
  shard.name = name;
  ShardReader reader(shard, options);
  auto parsed = std::make_unique<Parsed>();
  EXPECT_FALSE(reader.Next(&parsed->batch));  // small: one batch
  simdjson::dom::parser parser;
  ParseBatch(options, shard.name, parser, &parsed->batch);
  return parsed;
}

// Each fixture has a good line, the faulty one, a good line.
void ExpectMiddleLineFails(const std::string& fixture, Reason reason,
                           const std::string& detail) {
  SCOPED_TRACE(fixture);
  const auto parsed = ParseFixture(fixture);
  ASSERT_EQ(parsed->batch.docs.size(), 3u);
  EXPECT_EQ(parsed->doc(0).reason, Reason::kOk);
  EXPECT_EQ(parsed->doc(1).reason, reason);
  EXPECT_EQ(parsed->doc(1).detail, detail);
  EXPECT_EQ(parsed->doc(2).reason, Reason::kOk);
  EXPECT_EQ(parsed->batch.counters.docs, 2u);
}

TEST(ParserTest, MalformedJsonIsBadJson) {
  ExpectMiddleLineFails("bad_json.jsonl", Reason::kBadJson,
                        "A string is opened, but never closed.");
}

TEST(ParserTest, InvalidUtf8IsBadUtf8) {
  ExpectMiddleLineFails("bad_utf8.jsonl", Reason::kBadUtf8,
                        "the line is not valid UTF-8");
}

TEST(ParserTest, AbsentTextFieldIsMissingTextWithTheFieldsPresent) {
  ExpectMiddleLineFails("missing_text.jsonl", Reason::kMissingText,
                        "no field 'text'; fields present: id, content; is "
                        "[input].text_field right?");
}

TEST(ParserTest, NumberAsTextIsTextNotString) {
  ExpectMiddleLineFails("text_not_string.jsonl", Reason::kTextNotString,
                        "field 'text' is a number, not a string");
}

TEST(ParserTest, EmptyStringIsEmptyText) {
  ExpectMiddleLineFails("empty_text.jsonl", Reason::kEmptyText,
                        "the text is empty");
}

TEST(ParserTest, TopLevelArrayIsBadJson) {
  const std::string dir = testing::MakeTempDir();
  testing::WriteFile(dir + "/a.jsonl", "[1,2]\n");
  Shard shard;
  shard.path = dir + "/a.jsonl";
  shard.name = "a.jsonl";
  const InputOptions options;
  ShardReader reader(shard, options);
  Batch batch;
  reader.Next(&batch);
  simdjson::dom::parser parser;
  ParseBatch(options, shard.name, parser, &batch);
  ASSERT_EQ(batch.docs.size(), 1u);
  EXPECT_EQ(batch.docs[0].reason, Reason::kBadJson);
  EXPECT_EQ(batch.docs[0].detail, "the line is an array, not a JSON object");
}

TEST(ParserTest, UnescapesTextAndKeepsTheId) {
  const auto parsed = ParseFixture("good.jsonl");
  EXPECT_EQ(parsed->doc(0).id, "brown-ca01-0");
  EXPECT_FALSE(parsed->doc(0).id_generated);
  EXPECT_EQ(parsed->doc(3).text,
            "Only a relative handful of such reports was received, the jury "
            "said, considering the widespread interest in the election, the "
            "number of voters and the size of this city.");
}

TEST(ParserTest, GeneratesStableIdFromShardAndLineWhenAbsent) {
  const auto parsed = ParseFixture("no_id.jsonl");
  EXPECT_EQ(parsed->doc(0).id, "no_id.jsonl:1");
  EXPECT_TRUE(parsed->doc(0).id_generated);
  EXPECT_EQ(parsed->doc(1).id, "17");  // a numeric id, as written
  EXPECT_FALSE(parsed->doc(1).id_generated);
}

TEST(ParserTest, ConfiguredTextFieldIsRead) {
  InputOptions options;
  options.text_field = "content";
  const auto parsed = ParseFixture("missing_text.jsonl", options);
  EXPECT_EQ(parsed->doc(0).reason, Reason::kMissingText);
  EXPECT_EQ(parsed->doc(1).reason, Reason::kOk);
  EXPECT_TRUE(parsed->doc(1).text.starts_with("The jury further said"));
}

TEST(ParserTest, DropsAnExistingNeedleFieldFromTheLine) {
  const auto parsed = ParseFixture("needle_field.jsonl");
  EXPECT_EQ(parsed->doc(0).reason, Reason::kOk);
  EXPECT_EQ(parsed->doc(0).raw.find("\"needle\""), std::string::npos);
  EXPECT_TRUE(parsed->doc(0).raw.ends_with(",\"n\":[1,2]}"));
}

}  // namespace
}  // namespace needle
