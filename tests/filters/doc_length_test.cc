#include "filters/doc_length.h"

#include <gtest/gtest.h>

namespace needle {
namespace {

TEST(DocLengthTest, CountsCodePointsWordsAndLines) {
  const auto counts = DocLength::Count("Grüße aus  Köln\nzwei\tWörter\n");
  EXPECT_EQ(counts.chars, 28);
  EXPECT_EQ(counts.words, 5);
  EXPECT_EQ(counts.lines, 2);
}

TEST(DocLengthTest, CountsALastLineWithoutNewline) {
  EXPECT_EQ(DocLength::Count("one\ntwo").lines, 2);
  EXPECT_EQ(DocLength::Count("人人生而自由").chars, 6);
}

std::vector<Document> Docs(std::initializer_list<std::string_view> texts) {
  std::vector<Document> docs;
  for (std::string_view text : texts) {
    Document doc;
    doc.text = text;
    docs.push_back(doc);
  }
  return docs;
}

TEST(DocLengthTest, RejectsBelowMinCharsAndAboveMaxChars) {
  DocLength::Options options;
  options.min_chars = 3;
  options.max_chars = 5;
  const DocLength stage(options);
  auto docs = Docs({"ab", "abc", "abcde", "abcdef"});
  stage.Process(docs);
  EXPECT_EQ(docs[0].reason, Reason::kTooShort);
  EXPECT_EQ(docs[0].reject_stage, "doc_length");
  EXPECT_EQ(docs[1].reason, Reason::kOk);  // min is inclusive
  EXPECT_EQ(docs[2].reason, Reason::kOk);  // max is inclusive
  EXPECT_EQ(docs[3].reason, Reason::kTooLong);
}

TEST(DocLengthTest, RecordsSignalsEvenOnRejectedDocuments) {
  DocLength::Options options;
  options.min_chars = 10;
  auto docs = Docs({"short"});
  DocLength(options).Process(docs);
  ASSERT_EQ(docs[0].signals.size(), 4u);
  EXPECT_EQ(docs[0].signals[1].key, "chars");
  EXPECT_EQ(std::get<int64_t>(docs[0].signals[1].value), 5);
}

TEST(DocLengthTest, DefaultsKeepEverything) {
  auto docs = Docs({"a", std::string_view("")});
  DocLength(DocLength::Options()).Process(docs);
  EXPECT_TRUE(docs[0].ok());
  EXPECT_TRUE(docs[1].ok());
}

}  // namespace
}  // namespace needle
