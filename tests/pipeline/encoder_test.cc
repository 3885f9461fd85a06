#include "pipeline/encoder.h"

#include <gtest/gtest.h>

namespace needle {
namespace {

EncodeOptions PlainOutput(bool write_rejected = false) {
  EncodeOptions options;
  options.id_field = "id";
  options.codec = Codec::kPlain;
  options.write_rejected = write_rejected;
  return options;
}

Document KeptDocument(std::string_view raw) {
  Document doc;
  doc.raw = raw;
  doc.line = 7;
  return doc;
}

TEST(EncoderTest, AddsNeedleObjectBeforeTheClosingBrace) {
  Batch batch;
  Document doc = KeptDocument(R"({"id":"a","text":"hi","url":"u"}  )");
  doc.signals.push_back({"chars", int64_t{2}});
  doc.signals.push_back({"ratio", 0.25});
  doc.signals.push_back({"lang", std::string("en")});
  batch.docs.push_back(doc);
  EncodeBatch(PlainOutput(), "a.jsonl", &batch);
  EXPECT_EQ(
      batch.kept_bytes,
      R"({"id":"a","text":"hi","url":"u","needle":{"signals":{"chars":2,"ratio":0.25,"lang":"en"}}})"
      "\n");
  EXPECT_EQ(batch.counters.kept, 1u);
}

TEST(EncoderTest, WritesRewrittenTextInPlaceOfTheInputText) {
  Batch batch;
  Document doc = KeptDocument(R"({"id":"a", "text":"one\ntwo","n":[1, 2]})");
  doc.text = "one\ntwo";
  doc.RewriteText("two \"2\"");
  batch.docs.push_back(doc);
  EncodeOptions options = PlainOutput();
  options.text_field = "text";
  EncodeBatch(options, "a.jsonl", &batch);
  EXPECT_EQ(batch.kept_bytes,
            R"({"id":"a","text":"two \"2\"","n":[1,2],"needle":{"signals":{}}})"
            "\n");
}

TEST(EncoderTest, WritesGeneratedIdUnderTheConfiguredField) {
  Batch batch;
  Document doc = KeptDocument(R"({"text":"hi"})");
  doc.id = "a.jsonl:7";
  doc.id_generated = true;
  batch.docs.push_back(doc);
  EncodeOptions options = PlainOutput();
  options.id_field = "doc_id";
  EncodeBatch(options, "a.jsonl", &batch);
  EXPECT_EQ(batch.kept_bytes,
            R"({"text":"hi","doc_id":"a.jsonl:7","needle":{"signals":{}}})"
            "\n");
}

TEST(EncoderTest, RejectedDocumentCarriesReasonAndStage) {
  Batch batch;
  Document doc = KeptDocument(R"({"text":"hi"})");
  doc.reason = Reason::kTooShort;
  doc.reject_stage = "doc_length";
  batch.docs.push_back(doc);
  EncodeBatch(PlainOutput(/*write_rejected=*/true), "a.jsonl", &batch);
  EXPECT_EQ(batch.kept_bytes, "");
  EXPECT_EQ(
      batch.rejected_bytes,
      R"({"text":"hi","needle":{"reason":"too_short","stage":"doc_length","signals":{}}})"
      "\n");
  EXPECT_EQ(batch.counters.rejected, 1u);
  EXPECT_EQ(batch.counters.reasons[static_cast<int>(Reason::kTooShort)], 1u);
}

TEST(EncoderTest, RejectedDocumentsAreOnlyCountedUnlessWritten) {
  Batch batch;
  Document doc = KeptDocument(R"({"text":"hi"})");
  doc.reason = Reason::kTooShort;
  batch.docs.push_back(doc);
  EncodeBatch(PlainOutput(/*write_rejected=*/false), "a.jsonl", &batch);
  EXPECT_EQ(batch.rejected_bytes, "");
  EXPECT_EQ(batch.counters.rejected, 1u);
}

TEST(EncoderTest, CountsDocumentsBytesAndTokensPerLanguage) {
  Batch batch;
  auto add = [&](std::string_view text, const char* lang, int64_t tokens,
                 Reason reason) {
    Document doc = KeptDocument(R"({"text":"x"})");
    doc.text = text;
    doc.reason = reason;
    if (lang != nullptr) doc.signals.push_back({"lang", std::string(lang)});
    if (tokens >= 0) doc.signals.push_back({"tokens", tokens});
    batch.docs.push_back(doc);
  };
  add("hello", "en", 2, Reason::kOk);
  add("hi", "en", 1, Reason::kLangLowScore);
  add("hallo", "de", -1, Reason::kOk);          // no token count
  add("no language", nullptr, 3, Reason::kOk);  // no lang stage ran
  add("faulty", "fr", 1, Reason::kStageError);  // quarantined: not counted
  EncodeBatch(PlainOutput(), "a.jsonl", &batch);
  const auto& languages = batch.counters.languages;
  ASSERT_EQ(languages.size(), 2u);
  const LanguageCounts& en = languages.at("en");
  EXPECT_EQ(en.docs, 2u);
  EXPECT_EQ(en.bytes, 7u);
  EXPECT_EQ(en.tokens, 3u);
  EXPECT_EQ(en.kept_docs, 1u);
  EXPECT_EQ(en.kept_bytes, 5u);
  EXPECT_EQ(en.kept_tokens, 2u);
  const LanguageCounts& de = languages.at("de");
  EXPECT_EQ(de.docs, 1u);
  EXPECT_EQ(de.kept_bytes, 5u);
  EXPECT_EQ(de.tokens, 0u);
}

TEST(EncoderTest, QuarantineEntryHasPlaceReasonDetailAndRaw) {
  Batch batch;
  Document doc = KeptDocument(R"({"text":42})");
  doc.offset = 1234;
  doc.reason = Reason::kTextNotString;
  doc.detail = "field 'text' is a number, not a string";
  batch.docs.push_back(doc);
  EncodeBatch(PlainOutput(), "cc-01.jsonl.gz", &batch);
  EXPECT_EQ(
      batch.quarantine_bytes,
      R"({"shard":"cc-01.jsonl.gz","line":7,"offset":1234,"reason":"text_not_string","detail":"field 'text' is a number, not a string","raw":"{\"text\":42}"})"
      "\n");
  EXPECT_EQ(batch.counters.quarantined, 1u);
}

TEST(EncoderTest, QuarantinesInvalidUtf8AsBase64) {
  Batch batch;
  Document doc = KeptDocument("{\"text\":\"\xC3\x28\"}");
  doc.reason = Reason::kBadUtf8;
  batch.docs.push_back(doc);
  EncodeBatch(PlainOutput(), "a.jsonl", &batch);
  EXPECT_NE(
      batch.quarantine_bytes.find(R"("raw_base64":"eyJ0ZXh0IjoiwygifQ==")"),
      std::string::npos)
      << batch.quarantine_bytes;
}

TEST(EncoderTest, CutsQuarantinedRawToFourKiBOnACharacterBoundary) {
  Batch batch;
  // 9 + 4086 = 4095 bytes before 'é', whose two bytes straddle the cut.
  std::string raw = "{\"text\":\"" + std::string(4086, 'a') + "é\"}";
  Document doc = KeptDocument(raw);
  doc.reason = Reason::kBadJson;
  batch.docs.push_back(doc);
  EncodeBatch(PlainOutput(), "a.jsonl", &batch);
  const std::string& entry = batch.quarantine_bytes;
  EXPECT_NE(entry.find(std::string(4086, 'a') + "\"}"), std::string::npos);
  EXPECT_EQ(entry.find("raw_base64"), std::string::npos);
}

}  // namespace
}  // namespace needle
