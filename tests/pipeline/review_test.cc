// `needle review`: the sample sheet, the verdicts read back, and the
// statistics of the summary, on tier layouts written by hand.
#include "pipeline/review.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "pipeline/compress.h"
#include "pipeline/csv.h"
#include "pipeline/json_text.h"
#include "tests/test_util.h"

namespace needle {
namespace {

namespace fs = std::filesystem;
using testing::MakeTempDir;
using testing::ReadFile;
using testing::WriteFile;

struct Doc {
  std::string id;
  std::string tier;  // the highest tier: the folder it is written to
  std::string lang;  // "" for none
  double score = 0;
  std::string text = "some text";
};

std::string TierLine(const Doc& doc, const std::string& text_field = "text",
                     const std::string& id_field = "id") {
  std::string line = "{";
  AppendJsonString(id_field, &line);
  line += ':';
  AppendJsonString(doc.id, &line);
  line += ',';
  AppendJsonString(text_field, &line);
  line += ':';
  AppendJsonString(doc.text, &line);
  line += ",\"needle\":{\"tier\":";
  AppendJsonString(doc.tier, &line);
  line += ",\"signals\":{";
  if (!doc.lang.empty()) {
    line += "\"lang\":";
    AppendJsonString(doc.lang, &line);
    line += ',';
  }
  line += "\"score\":";
  AppendJsonNumber(doc.score, &line);
  line += ",\"chars\":" + std::to_string(doc.text.size()) + "}}}\n";
  return line;
}

// A finished run with tiers: run.json and one shard per tier folder, the
// last tier's compressed with zstd (the reader sniffs the codec).
std::string WriteRun(const std::vector<std::string>& tiers,
                     const std::vector<Doc>& docs,
                     const std::string& input_section = "") {
  std::string out = MakeTempDir();
  std::string resolved = input_section + "[tiers]\nenabled = true\n";
  std::string run_json =
      "{\"format\":\"needle.run/1\",\"config\":{\"resolved\":";
  AppendJsonString(resolved, &run_json);
  run_json += "},\"tiers\":[";
  for (size_t t = 0; t < tiers.size(); ++t) {
    run_json += (t ? ",{\"name\":\"" : "{\"name\":\"") + tiers[t] + "\"}";
  }
  run_json += "]}\n";
  WriteFile(out + "/run.json", run_json);
  std::map<std::string, std::string> lines;
  for (const Doc& doc : docs) {
    lines[doc.tier] +=
        input_section.empty() ? TierLine(doc) : TierLine(doc, "body", "doc_id");
  }
  for (const auto& [tier, text] : lines) {
    if (tier == tiers.back()) {
      std::string compressed;
      AppendCompressedFrame(Codec::kZstd, 1, text, &compressed);
      WriteFile(fmt::format("{}/tiers/{}/part-0.jsonl.zst", out, tier),
                compressed);
    } else {
      WriteFile(fmt::format("{}/tiers/{}/part-0.jsonl", out, tier), text);
    }
  }
  return out;
}

// The sheet as column name -> values, one per row.
std::map<std::string, std::vector<std::string>> ReadSheet(
    const std::string& path) {
  CsvReader reader(ReadFile(path));
  CsvRecord header;
  EXPECT_TRUE(reader.Next(&header));
  std::map<std::string, std::vector<std::string>> columns;
  for (CsvRecord row; reader.Next(&row);) {
    EXPECT_EQ(row.fields.size(), header.fields.size());
    for (size_t i = 0; i < header.fields.size(); ++i) {
      columns[header.fields[i]].push_back(row.fields[i]);
    }
  }
  EXPECT_EQ(reader.error(), "");
  return columns;
}

std::map<std::string, size_t> CountByValue(
    const std::vector<std::string>& values) {
  std::map<std::string, size_t> counts;
  for (const std::string& value : values) ++counts[value];
  return counts;
}

ReviewExportResult Export(const std::string& out, const std::string& tier,
                          size_t count, uint64_t seed,
                          const std::string& sheet) {
  ReviewExportRequest request;
  request.run_dir = out;
  request.tier = tier;
  request.count = count;
  request.seed = seed;
  request.sheet_path = sheet;
  return ExportReviewSheet(request);
}

// 60 English, 30 German, 10 French documents, all in tier "raw".
std::vector<Doc> HundredDocs() {
  std::vector<Doc> docs;
  for (int i = 0; i < 100; ++i) {
    const std::string lang = i < 60 ? "en" : i < 90 ? "de" : "fr";
    docs.push_back({lang + "-" + std::to_string(i), "raw", lang, i * 0.01});
  }
  return docs;
}

TEST(ReviewExportTest, SameSeedGivesTheSameBytesAndAnotherSeedAnotherSample) {
  const std::string out = WriteRun({"raw"}, HundredDocs());
  const std::string dir = MakeTempDir();
  Export(out, "raw", 10, 7, dir + "/a.csv");
  Export(out, "raw", 10, 7, dir + "/b.csv");
  Export(out, "raw", 10, 8, dir + "/c.csv");
  EXPECT_EQ(ReadFile(dir + "/a.csv"), ReadFile(dir + "/b.csv"));
  const auto a = ReadSheet(dir + "/a.csv")["id"];
  const auto c = ReadSheet(dir + "/c.csv")["id"];
  ASSERT_EQ(a.size(), 10u);
  ASSERT_EQ(c.size(), 10u);
  EXPECT_NE(std::set<std::string>(a.begin(), a.end()),
            std::set<std::string>(c.begin(), c.end()));
}

TEST(ReviewExportTest, AllocatesProportionallyToLanguages) {
  const std::string out = WriteRun({"raw"}, HundredDocs());
  const std::string sheet = MakeTempDir() + "/sheet.csv";
  const ReviewExportResult result = Export(out, "raw", 10, 1, sheet);
  EXPECT_EQ(result.members, 100u);
  EXPECT_EQ(result.sampled, 10u);
  // 10 x 60/100, 10 x 30/100, 10 x 10/100: exact quotas.
  const std::map<std::string, size_t> expected = {
      {"de", 3}, {"en", 6}, {"fr", 1}};
  EXPECT_EQ(CountByValue(ReadSheet(sheet)["lang"]), expected);
  ASSERT_EQ(result.strata.size(), 3u);
  EXPECT_EQ(result.strata[0].lang, "de");
  EXPECT_EQ(result.strata[0].members, 30u);
  EXPECT_EQ(result.strata[0].sampled, 3u);
}

TEST(ReviewExportTest, DocumentsWithoutALanguageFormTheUndStratum) {
  std::vector<Doc> docs = HundredDocs();
  for (size_t i = 0; i < 50; ++i) docs[i].lang = "";
  const std::string out = WriteRun({"raw"}, docs);
  const std::string sheet = MakeTempDir() + "/sheet.csv";
  Export(out, "raw", 10, 1, sheet);
  // und 50, en 10, de 30, fr 10 of 100: quotas 5, 1, 3, 1.
  const std::map<std::string, size_t> expected = {
      {"de", 3}, {"en", 1}, {"fr", 1}, {"und", 5}};
  EXPECT_EQ(CountByValue(ReadSheet(sheet)["lang"]), expected);
}

TEST(ReviewExportTest, SamplesOnlyMembersOfTheTierAndAbove) {
  std::vector<Doc> docs;
  std::set<std::string> members;
  for (int i = 0; i < 30; ++i) {
    const std::string tier = i < 10 ? "raw" : i < 20 ? "mid" : "top";
    docs.push_back({"d" + std::to_string(i), tier, "en", 0.5});
    if (tier != "raw") members.insert(docs.back().id);
  }
  const std::string out = WriteRun({"raw", "mid", "top"}, docs);
  const std::string sheet = MakeTempDir() + "/sheet.csv";
  // More than there are: every member, and nothing from raw.
  const ReviewExportResult result = Export(out, "mid", 50, 3, sheet);
  EXPECT_EQ(result.members, 20u);
  auto columns = ReadSheet(sheet);
  EXPECT_EQ(std::set<std::string>(columns["id"].begin(), columns["id"].end()),
            members);
  const std::map<std::string, size_t> tiers = {{"mid", 10}, {"top", 10}};
  EXPECT_EQ(CountByValue(columns["tier"]), tiers);

  Export(out, "mid", 5, 3, sheet);
  columns = ReadSheet(sheet);
  ASSERT_EQ(columns["id"].size(), 5u);
  for (const std::string& id : columns["id"]) {
    EXPECT_TRUE(members.contains(id)) << id;
  }
}

TEST(ReviewExportTest, UnknownTierNamesTheClosest) {
  const std::string out = WriteRun({"raw", "expert"}, HundredDocs());
  try {
    Export(out, "exprt", 5, 0, MakeTempDir() + "/sheet.csv");
    FAIL() << "no exception";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(),
                 "the run has no tier 'exprt'; did you mean 'expert'? (its "
                 "tiers: raw, expert)");
  }
}

TEST(ReviewExportTest, SheetHasTheColumnsAndACutExcerpt) {
  // 600 two-byte characters, a newline among them; and a formula-like text.
  std::string long_text = "line one\n";
  for (int i = 0; i < 600; ++i) long_text += "\xC3\xA9";
  std::vector<Doc> docs = {{"a", "raw", "fr", 0.25, long_text},
                           {"b", "raw", "fr", 0.75, "=SUM(A1:A9)"}};
  const std::string out = WriteRun(
      {"raw"}, docs, "[input]\ntext_field = \"body\"\nid_field = \"doc_id\"\n");
  const std::string sheet = MakeTempDir() + "/sheet.csv";
  Export(out, "raw", 10, 0, sheet);
  const std::string bytes = ReadFile(sheet);
  EXPECT_TRUE(bytes.starts_with(
      "\xEF\xBB\xBFid,tier,lang,shard,excerpt,chars,score,verdict,note\r\n"))
      << bytes.substr(0, 80);
  auto columns = ReadSheet(sheet);
  std::map<std::string, std::string> excerpt;
  std::map<std::string, std::string> score;
  for (size_t r = 0; r < columns["id"].size(); ++r) {
    excerpt[columns["id"][r]] = columns["excerpt"][r];
    score[columns["id"][r]] = columns["score"][r];
    EXPECT_EQ(columns["shard"][r], "part-0");
    EXPECT_EQ(columns["verdict"][r], "");
    EXPECT_EQ(columns["note"][r], "");
  }
  // 9 characters of "line one\n", then 491 of the 600 e-acutes, and "…".
  std::string expected = "line one\n";
  for (int i = 0; i < 491; ++i) expected += "\xC3\xA9";
  EXPECT_EQ(excerpt["a"], expected + "\xE2\x80\xA6");
  EXPECT_EQ(excerpt["b"], "'=SUM(A1:A9)");
  EXPECT_EQ(score["a"], "0.25");
  EXPECT_EQ(score["b"], "0.75");
}

TEST(AllocateSampleTest, LargestRemainderThenOneForEveryLanguage) {
  // Quotas 9.7, 0.2, 0.1: 10, 0, 0 by largest remainder; then the two
  // empty strata take one each from the largest.
  EXPECT_EQ(AllocateSample({97, 2, 1}, 10), (std::vector<size_t>{8, 1, 1}));
  // Too few for every stratum: largest remainder alone.
  EXPECT_EQ(AllocateSample({97, 2, 1}, 2), (std::vector<size_t>{2, 0, 0}));
  // Quotas 1.5 and 1.5: the tie goes to the earlier stratum.
  EXPECT_EQ(AllocateSample({5, 5}, 3), (std::vector<size_t>{2, 1}));
  // Quotas 1.5, 4.5, 2: the tie of remainders goes to the larger stratum.
  EXPECT_EQ(AllocateSample({3, 9, 4}, 8), (std::vector<size_t>{1, 5, 2}));
  // Enough for everything: all of each, empty strata none.
  EXPECT_EQ(AllocateSample({3, 0, 2}, 9), (std::vector<size_t>{3, 0, 2}));
}

TEST(WilsonIntervalTest, EightOfTen) {
  const Interval interval = WilsonInterval(8, 10);
  EXPECT_NEAR(interval.low, 0.4902, 5e-4);
  EXPECT_NEAR(interval.high, 0.9433, 5e-4);
}

TEST(WilsonIntervalTest, AllKeptHasLowerBoundNOverNPlusZSquared) {
  const Interval interval = WilsonInterval(10, 10);
  EXPECT_NEAR(interval.low, 10 / (10 + 1.959964 * 1.959964), 1e-6);
  EXPECT_DOUBLE_EQ(interval.high, 1.0);
  const Interval none = WilsonInterval(0, 0);
  EXPECT_EQ(none.low, 0);
  EXPECT_EQ(none.high, 1);
}

TEST(RankAucTest, CountsPairsWithTiesAsHalf) {
  // Pairs (kept, dropped): 3>1, 3<5, 5>1, 5=5, 7>1, 7>5: 4.5 of 6.
  EXPECT_DOUBLE_EQ(RankAuc({3, 5, 7}, {1, 5}), 0.75);
  EXPECT_DOUBLE_EQ(RankAuc({1, 5}, {3, 5, 7}), 0.25);
  EXPECT_DOUBLE_EQ(RankAuc({2, 2}, {2}), 0.5);
  EXPECT_TRUE(std::isnan(RankAuc({}, {1})));
}

// A run of three tiers with one document each and their sample exported.
class ReviewImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    out_ = WriteRun({"raw", "mid", "top"}, {{"r", "raw", "en", 0.1},
                                            {"m", "mid", "en", 0.5},
                                            {"t", "top", "de", 0.9}});
    dir_ = MakeTempDir();
    Export(out_, "raw", 10, 0, dir_ + "/exported.csv");
  }

  ReviewImportResult Import(const std::string& sheet) {
    WriteFile(dir_ + "/sheet.csv", sheet);
    return ImportReviewSheet(out_, dir_ + "/sheet.csv", "sheet.csv");
  }

  std::vector<std::string> ImportErrors(const std::string& sheet) {
    return Import(sheet).errors;
  }

  std::string out_;
  std::string dir_;
};

TEST_F(ReviewImportTest, CountsAReviewedDocumentForItsTierAndEveryTierBelow) {
  const ReviewImportResult result =
      Import("id,verdict\r\nr,keep\r\nm,drop\r\nt,keep\r\n");
  ASSERT_EQ(result.errors, std::vector<std::string>{});
  const ReviewSummary& summary = result.summary;
  EXPECT_EQ(summary.reviewed, 3u);
  ASSERT_EQ(summary.tiers.size(), 3u);
  EXPECT_EQ(summary.tiers[0].reviewed, 3u);  // r, m, t
  EXPECT_EQ(summary.tiers[0].keep, 2u);
  EXPECT_EQ(summary.tiers[1].reviewed, 2u);  // m, t
  EXPECT_EQ(summary.tiers[1].keep, 1u);
  EXPECT_EQ(summary.tiers[2].reviewed, 1u);  // t
  EXPECT_EQ(summary.tiers[2].keep, 1u);
  EXPECT_DOUBLE_EQ(summary.tiers[1].precision, 0.5);
  // Kept scores 0.1 and 0.9 against dropped 0.5: one pair of two above.
  // Kept chars 9, 9 against 9: all ties.
  ASSERT_EQ(summary.signals.size(), 2u);
  EXPECT_EQ(summary.signals[0].name, "chars");
  EXPECT_DOUBLE_EQ(summary.signals[0].auc, 0.5);
  EXPECT_EQ(summary.signals[1].name, "score");
  EXPECT_DOUBLE_EQ(summary.signals[1].auc, 0.5);
  EXPECT_DOUBLE_EQ(summary.signals[1].kept_mean, 0.5);

  const std::string json = ReadFile(ReviewSummaryJsonPath(out_));
  EXPECT_NE(json.find("\"format\":\"needle.review/1\""), std::string::npos);
  EXPECT_NE(json.find("{\"name\":\"mid\",\"reviewed\":2,\"keep\":1,"
                      "\"precision\":0.5,"),
            std::string::npos)
      << json;
}

TEST_F(ReviewImportTest, SortsSignalsByHowWellTheySeparate) {
  const ReviewImportResult result =
      Import("id,verdict\nr,drop\nm,keep\nt,keep\n");
  ASSERT_EQ(result.errors, std::vector<std::string>{});
  // Kept scores 0.5, 0.9 above the dropped 0.1: AUC 1; chars all tied.
  ASSERT_EQ(result.summary.signals.size(), 2u);
  EXPECT_EQ(result.summary.signals[0].name, "score");
  EXPECT_DOUBLE_EQ(result.summary.signals[0].auc, 1.0);
  EXPECT_NEAR(result.summary.signals[0].dropped_mean, 0.1, 1e-12);
}

TEST_F(ReviewImportTest, AcceptsVerdictsInAnyCaseAndBlankAsNotReviewed) {
  const ReviewImportResult result =
      Import("ID,Verdict,Note\r\nr, KEEP ,fine\r\nm,,\r\nt,Drop,spam\r\n");
  ASSERT_EQ(result.errors, std::vector<std::string>{});
  EXPECT_EQ(result.verdicts_read, 2u);
  EXPECT_EQ(ReadFile(out_ + "/review/verdicts.jsonl"),
            "{\"id\":\"r\",\"verdict\":\"keep\",\"note\":\"fine\","
            "\"sheet\":\"sheet.csv\"}\n"
            "{\"id\":\"t\",\"verdict\":\"drop\",\"note\":\"spam\","
            "\"sheet\":\"sheet.csv\"}\n");
}

TEST_F(ReviewImportTest, ReimportReplacesEarlierVerdicts) {
  ASSERT_EQ(ImportErrors("id,verdict\nr,keep\nm,keep\n"),
            std::vector<std::string>{});
  // m changes its mind, r is left blank (kept as it was), t is new.
  const ReviewImportResult result = Import("id,verdict\nm,drop\nr,\nt,drop\n");
  ASSERT_EQ(result.errors, std::vector<std::string>{});
  EXPECT_EQ(result.verdicts_stored, 3u);
  EXPECT_EQ(result.summary.keep, 1u);
  EXPECT_EQ(result.summary.drop, 2u);
  const std::vector<std::string> lines =
      testing::Lines(ReadFile(out_ + "/review/verdicts.jsonl"));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("\"id\":\"m\",\"verdict\":\"drop\""),
            std::string::npos);
  EXPECT_NE(lines[1].find("\"id\":\"r\",\"verdict\":\"keep\""),
            std::string::npos);
}

TEST_F(ReviewImportTest, RejectsAMissingColumn) {
  EXPECT_EQ(ImportErrors("id,note\nr,fine\n"),
            std::vector<std::string>{
                "sheet.csv:1: no 'verdict' column in the header (columns: "
                "id, note)"});
  EXPECT_FALSE(fs::exists(out_ + "/review/verdicts.jsonl"));
}

TEST_F(ReviewImportTest, RejectsAnUnknownVerdictOnTheLineOfTheVerdict) {
  // Row 2's excerpt spans lines 2 to 4; its verdict is on line 4.
  EXPECT_EQ(ImportErrors("id,excerpt,verdict\n"
                         "r,\"one\ntwo\nthree\",maybe\n"
                         "m,x,keep\n"
                         "t,x,yes\n"),
            (std::vector<std::string>{
                "sheet.csv:4: row 2: verdict 'maybe' is not keep, drop or "
                "blank",
                "sheet.csv:6: row 4: verdict 'yes' is not keep, drop or "
                "blank"}));
  EXPECT_FALSE(fs::exists(out_ + "/review/verdicts.jsonl"));
}

TEST_F(ReviewImportTest, RejectsAnIdNotInTheSampleAndADuplicate) {
  EXPECT_EQ(ImportErrors("id,verdict\nr,keep\nx,drop\n\nr,drop\n"),
            (std::vector<std::string>{
                "sheet.csv:3: row 3: id 'x' is not in this run's review "
                "sample (review/sample.jsonl); a sheet of another run?",
                "sheet.csv:5: row 5: id 'r' again (first on line 2)"}));
}

TEST_F(ReviewImportTest, RejectsBrokenQuoting) {
  EXPECT_EQ(ImportErrors("id,verdict\nr,keep\nm,\"drop\n"),
            std::vector<std::string>{
                "sheet.csv:3: a quoted field opened on this line is never "
                "closed (a quote missing or one too many)"});
  EXPECT_EQ(ImportErrors("id,verdict\nr,\"keep\"x\n"),
            std::vector<std::string>{
                "sheet.csv:2: text after the closing quote of field 2 (quotes "
                "inside a field are doubled)"});
  EXPECT_EQ(ImportErrors("id,verdict\nr,keep\nm,dr\"op\n"),
            std::vector<std::string>{
                "sheet.csv:3: a quote inside unquoted field 2 (quote the "
                "whole field and double the quote)"});
  EXPECT_EQ(ImportErrors("id,verdict\nr,keep,extra\n"),
            std::vector<std::string>{
                "sheet.csv:2: row 2 has 3 fields, the header 2 (a stray "
                "separator or quote?)"});
  EXPECT_FALSE(fs::exists(out_ + "/review/verdicts.jsonl"));
}

TEST_F(ReviewImportTest, ReadsTheExportedSheetAndSemicolons) {
  // The exported sheet itself (BOM, CRLF, quoted excerpts) reads back.
  EXPECT_EQ(ImportErrors(ReadFile(dir_ + "/exported.csv")),
            std::vector<std::string>{});
  // Excel in a decimal-comma locale separates with ';'.
  const ReviewImportResult result = Import("id;verdict\rr;keep\rm;drop\r");
  ASSERT_EQ(result.errors, std::vector<std::string>{});
  EXPECT_EQ(result.verdicts_read, 2u);
}

TEST(CsvTest, QuotesOnlyWhatMustBeQuotedAndReadsItBack) {
  std::string row;
  for (const std::string field :
       {"plain", "a,b", "say \"hi\"", "two\nlines", " padded", ""}) {
    if (!row.empty()) row += ',';
    AppendCsvField(field, &row);
  }
  EXPECT_EQ(row,
            "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\" padded\",");
  CsvReader reader(row + "\r\nnext\r\n");
  CsvRecord record;
  ASSERT_TRUE(reader.Next(&record));
  EXPECT_EQ(record.fields,
            (std::vector<std::string>{"plain", "a,b", "say \"hi\"",
                                      "two\nlines", " padded", ""}));
  EXPECT_EQ(record.field_lines, (std::vector<size_t>{1, 1, 1, 1, 2, 2}));
  ASSERT_TRUE(reader.Next(&record));
  EXPECT_EQ(record.line, 3u);
  EXPECT_EQ(record.row, 2u);
  EXPECT_FALSE(reader.Next(&record));
  EXPECT_EQ(reader.error(), "");
}

}  // namespace
}  // namespace needle
