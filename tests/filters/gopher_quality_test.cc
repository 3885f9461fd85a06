#include "filters/gopher_quality.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "filters/python_text.h"
#include "filters/words.h"
#include "tests/test_util.h"

// Hand-made documents use only tokens that every tokenizer agrees on: plain
// lowercase words, numbers and standalone symbols separated by single
// spaces, so the expected values below are counted by hand and do not depend
// on words::SplitWords' NLTK corner cases.

namespace needle {
namespace {

Document Doc(std::string_view text) {
  Document doc;
  doc.text = text;
  return doc;
}

// Runs the stage on one document and returns it.
Document Filter(const GopherQuality::Options& options, std::string_view text) {
  std::vector<Document> docs{Doc(text)};
  GopherQuality(options).Process(docs);
  return docs[0];
}

double Real(const Document& doc, std::string_view key) {
  const double* value = doc.FindSignal<double>(key);
  EXPECT_NE(value, nullptr) << key;
  return value == nullptr ? -1 : *value;
}

int64_t Int(const Document& doc, std::string_view key) {
  const int64_t* value = doc.FindSignal<int64_t>(key);
  EXPECT_NE(value, nullptr) << key;
  return value == nullptr ? -1 : *value;
}

// The first n words of "the river of green stone the river ...": 4 code
// points a word on average over each group of five, and two stop words.
std::string Words(int n) {
  static constexpr std::string_view kCycle[] = {"the", "river", "of", "green",
                                                "stone"};
  std::string text;
  for (int i = 0; i < n; ++i) {
    if (i > 0) text += ' ';
    text += kCycle[i % 5];
  }
  return text;
}

std::string Times(std::string_view piece, int n) {
  std::string text;
  for (int i = 0; i < n; ++i) text += piece;
  return text;
}

TEST(GopherQualityTest, DefaultsAreDatatroves) {
  const GopherQuality::Options o;
  EXPECT_EQ(o.min_doc_words, 50);
  EXPECT_EQ(o.max_doc_words, 100'000);
  EXPECT_EQ(o.min_avg_word_length, 3);
  EXPECT_EQ(o.max_avg_word_length, 10);
  EXPECT_EQ(o.max_symbol_word_ratio, 0.1);
  EXPECT_EQ(o.max_bullet_lines_ratio, 0.9);
  EXPECT_EQ(o.max_ellipsis_lines_ratio, 0.3);
  EXPECT_EQ(o.min_alpha_words_ratio, 0.8);
  EXPECT_EQ(o.min_stop_words, 2);
  EXPECT_EQ(o.stop_words,
            (std::vector<std::string>{"the", "be", "to", "of", "and", "that",
                                      "have", "with"}));
}

TEST(GopherQualityTest, KeepsACleanDocumentAndRecordsEverySignal) {
  const Document doc = Filter({}, Words(50));
  EXPECT_TRUE(doc.ok());
  EXPECT_EQ(Int(doc, "gopher.word_count"), 50);
  EXPECT_EQ(Int(doc, "gopher.tokens"), 50);
  EXPECT_EQ(Real(doc, "gopher.mean_word_length"), 4.0);  // 200 / 50
  EXPECT_EQ(Real(doc, "gopher.hash_ratio"), 0.0);
  EXPECT_EQ(Real(doc, "gopher.ellipsis_ratio"), 0.0);
  EXPECT_EQ(Real(doc, "gopher.bullet_lines_ratio"), 0.0);
  EXPECT_EQ(Real(doc, "gopher.ellipsis_lines_ratio"), 0.0);
  EXPECT_EQ(Real(doc, "gopher.alpha_words_ratio"), 1.0);
  EXPECT_EQ(Int(doc, "gopher.stop_words"), 2);  // "the", "of"
  EXPECT_EQ(doc.signals.size(), 9u);
}

TEST(GopherQualityTest, RejectsFewerWordsThanMinDocWords) {
  EXPECT_TRUE(Filter({}, Words(50)).ok());
  const Document doc = Filter({}, Words(49));
  EXPECT_EQ(doc.reason, Reason::kGopherTooFewWords);
  EXPECT_EQ(doc.reject_stage, "gopher_quality");
  EXPECT_EQ(Int(doc, "gopher.word_count"), 49);
}

TEST(GopherQualityTest, SymbolTokensAreNotWords) {
  // 49 words and a comma: 50 tokens, still too few words.
  const Document doc = Filter({}, Words(49) + " ,");
  EXPECT_EQ(doc.reason, Reason::kGopherTooFewWords);
  EXPECT_EQ(Int(doc, "gopher.word_count"), 49);
  EXPECT_EQ(Int(doc, "gopher.tokens"), 50);
}

TEST(GopherQualityTest, RejectsMoreWordsThanMaxDocWords) {
  GopherQuality::Options options;
  options.max_doc_words = 60;
  EXPECT_TRUE(Filter(options, Words(60)).ok());
  EXPECT_EQ(Filter(options, Words(61)).reason, Reason::kGopherTooManyWords);
}

TEST(GopherQualityTest, RejectsAMeanWordLengthBelowTheMinimum) {
  // 50 three-letter words: mean 3, kept (the bound is inclusive).
  const std::string at = Times("the cat and dog ", 12) + "the cat";
  const Document kept = Filter({}, at);
  EXPECT_TRUE(kept.ok());
  EXPECT_EQ(Real(kept, "gopher.mean_word_length"), 3.0);
  // One two-letter word: 149 / 50 = 2.98.
  const Document doc = Filter({}, Times("the cat and dog ", 12) + "the at");
  EXPECT_EQ(doc.reason, Reason::kGopherShortWords);
  EXPECT_DOUBLE_EQ(Real(doc, "gopher.mean_word_length"), 2.98);
}

TEST(GopherQualityTest, RejectsAMeanWordLengthAboveTheMaximum) {
  // "the", "and", 47 ten-letter words and one of 24: 500 / 50 = 10.
  const std::string base = "the and" + Times(" abcdefghij", 47);
  const Document kept = Filter({}, base + " abcdefghijklmnopqrstuvwx");
  EXPECT_TRUE(kept.ok());
  EXPECT_EQ(Real(kept, "gopher.mean_word_length"), 10.0);
  // A 25-letter last word: 501 / 50 = 10.02.
  const Document doc = Filter({}, base + " abcdefghijklmnopqrstuvwxy");
  EXPECT_EQ(doc.reason, Reason::kGopherLongWords);
  EXPECT_DOUBLE_EQ(Real(doc, "gopher.mean_word_length"), 10.02);
}

TEST(GopherQualityTest, RejectsTooManyHashesPerToken) {
  // 54 words and 6 '#': 6 / 60 = 0.1, kept; 7 / 61 is over.
  const Document kept = Filter({}, Words(54) + Times(" #", 6));
  EXPECT_TRUE(kept.ok());
  EXPECT_EQ(Real(kept, "gopher.hash_ratio"), 0.1);
  const Document doc = Filter({}, Words(54) + Times(" #", 7));
  EXPECT_EQ(doc.reason, Reason::kGopherHashRatio);
  EXPECT_DOUBLE_EQ(Real(doc, "gopher.hash_ratio"), 7.0 / 61);
}

TEST(GopherQualityTest, RejectsTooManyEllipsesPerToken) {
  // U+2026 counts as one ellipsis: 6 / 60 = 0.1, kept; 7 / 61 is over.
  // (The ellipses come first: a last line ending with one is another rule.)
  const Document kept = Filter({}, Times("\u2026 ", 6) + Words(54));
  EXPECT_TRUE(kept.ok());
  EXPECT_EQ(Real(kept, "gopher.ellipsis_ratio"), 0.1);
  const Document doc = Filter({}, Times("\u2026 ", 7) + Words(54));
  EXPECT_EQ(doc.reason, Reason::kGopherEllipsisRatio);
  // "..." counts the same: 7 / 61.
  const Document dots = Filter({}, Times("... ", 7) + Words(54));
  EXPECT_EQ(dots.reason, Reason::kGopherEllipsisRatio);
  EXPECT_DOUBLE_EQ(Real(dots, "gopher.ellipsis_ratio"), 7.0 / 61);
}

// Ten lines of six words; the first `marked` start with a bullet: "-"
// after leading spaces, U+2022, then plain "-".
std::string BulletLines(int marked) {
  std::string text;
  for (int i = 0; i < 10; ++i) {
    if (i < marked) text += i == 0 ? "  - " : i == 1 ? "\u2022 " : "- ";
    text += Words(6) + "\n";
  }
  return text;
}

TEST(GopherQualityTest, RejectsTooManyBulletLines) {
  // 9 of 10 lines: 0.9, kept (leading whitespace is stripped first).
  const Document kept = Filter({}, BulletLines(9));
  EXPECT_TRUE(kept.ok());
  EXPECT_EQ(Real(kept, "gopher.bullet_lines_ratio"), 0.9);
  const Document doc = Filter({}, BulletLines(10));
  EXPECT_EQ(doc.reason, Reason::kGopherBulletLines);
  EXPECT_EQ(Real(doc, "gopher.bullet_lines_ratio"), 1.0);
}

// Ten lines of six words; the first `marked` end with an ellipsis, in three
// forms (trailing whitespace is stripped first).
std::string EllipsisLines(int marked) {
  static constexpr std::string_view kEnds[] = {"...", " \u2026", "...  \t",
                                               " ..."};
  std::string text;
  for (int i = 0; i < 10; ++i) {
    text += Words(6);
    if (i < marked) text += kEnds[i % 4];
    text += "\n";
  }
  return text;
}

TEST(GopherQualityTest, RejectsTooManyLinesEndingWithAnEllipsis) {
  const Document kept = Filter({}, EllipsisLines(3));  // 3 / 10 = 0.3
  EXPECT_TRUE(kept.ok());
  EXPECT_EQ(Real(kept, "gopher.ellipsis_lines_ratio"), 0.3);
  const Document doc = Filter({}, EllipsisLines(4));
  EXPECT_EQ(doc.reason, Reason::kGopherEllipsisLines);
  EXPECT_EQ(Real(doc, "gopher.ellipsis_lines_ratio"), 0.4);
}

TEST(GopherQualityTest, LinesArePythonSplitlines) {
  // \r\n is one line end, a final line end adds no line, and \r, \f,
  // U+2028 end lines too: 5 lines, 2 bullets.
  const Document doc = Filter({}, "- a\r\nb\r- c\fd\u2028" + Words(50) + "\n");
  EXPECT_EQ(Real(doc, "gopher.bullet_lines_ratio"), 0.4);
}

TEST(GopherQualityTest, RejectsTooFewTokensWithALetter) {
  // 40 words and 10 numbers: 0.8, kept; 39 and 11: 0.78.
  const Document kept = Filter({}, Words(40) + Times(" 1234", 10));
  EXPECT_TRUE(kept.ok());
  EXPECT_EQ(Real(kept, "gopher.alpha_words_ratio"), 0.8);
  const Document doc = Filter({}, Words(39) + Times(" 1234", 11));
  EXPECT_EQ(doc.reason, Reason::kGopherFewAlphaWords);
  EXPECT_DOUBLE_EQ(Real(doc, "gopher.alpha_words_ratio"), 0.78);
}

TEST(GopherQualityTest, LettersOfAnyScriptCount) {
  // Greek and Cyrillic words have letters; "١٢٣" (Arabic-Indic digits) has
  // none: 2 of 3.
  GopherQuality::Options options;
  options.min_doc_words = 0;
  const Document doc = Filter(options, "λόγος слово ١٢٣");
  EXPECT_DOUBLE_EQ(Real(doc, "gopher.alpha_words_ratio"), 2.0 / 3);
}

TEST(GopherQualityTest, RejectsFewerDistinctStopWordsThanTheMinimum) {
  // Only "the", however often: 1.
  const Document one = Filter({}, Times("the river green stone ", 13));
  EXPECT_EQ(one.reason, Reason::kGopherFewStopWords);
  EXPECT_EQ(Int(one, "gopher.stop_words"), 1);
  // Case matters: "The" and "Of" are not stop words.
  const Document cased = Filter({}, Times("The river Of green stone ", 10));
  EXPECT_EQ(cased.reason, Reason::kGopherFewStopWords);
  EXPECT_EQ(Int(cased, "gopher.stop_words"), 0);
  // "the" and "of": 2, kept; not with min_stop_words = 3.
  EXPECT_TRUE(Filter({}, Words(50)).ok());
  GopherQuality::Options three;
  three.min_stop_words = 3;
  EXPECT_EQ(Filter(three, Words(50)).reason, Reason::kGopherFewStopWords);
}

TEST(GopherQualityTest, StopWordsComeFromOptions) {
  GopherQuality::Options options;
  options.stop_words = {"river", "stone", "river", "absent"};
  const Document doc = Filter(options, Times("river green stone ", 17));
  EXPECT_TRUE(doc.ok());
  EXPECT_EQ(Int(doc, "gopher.stop_words"), 2);
}

TEST(GopherQualityTest, StopWordsOfAnyLengthMatchWholeTokens) {
  // Up to 8 bytes and longer, ASCII or not; a stop word inside a longer
  // token, or a token inside a longer stop word, is no match, nor is a
  // token of the same size. "riverbank" (9 bytes), "éléments" (10 bytes),
  // "stone": 3 of 6 ("waterfalls" has the size of "riverbanks").
  GopherQuality::Options options;
  options.min_doc_words = 0;
  options.stop_words = {"riverbank", "éléments", "stone",
                        "river",     "stones",   "waterfalls"};
  const Document doc =
      Filter(options, "riverbanks riverbank éléments stone stone éléments");
  EXPECT_EQ(Int(doc, "gopher.stop_words"), 3);
}

TEST(GopherQualityTest, RejectsWithTheFirstFailingRuleButRecordsAll) {
  // Too few words, and far too many hashes: the word rule comes first.
  const Document doc = Filter({}, Words(10) + Times(" #", 20));
  EXPECT_EQ(doc.reason, Reason::kGopherTooFewWords);
  EXPECT_EQ(doc.signals.size(), 9u);
  EXPECT_DOUBLE_EQ(Real(doc, "gopher.hash_ratio"), 20.0 / 30);
}

TEST(GopherQualityTest, ZeroTurnsARuleOff) {
  GopherQuality::Options options;
  options.min_doc_words = 0;
  options.max_symbol_word_ratio = 0;
  options.min_alpha_words_ratio = 0;  // 10 of 30 tokens have letters
  EXPECT_TRUE(Filter(options, Words(10) + Times(" #", 20)).ok());
}

TEST(GopherQualityTest, WithoutWordsTheRatioRulesPass) {
  // datatrove would divide by zero here (or compare with NaN).
  GopherQuality::Options options;
  options.min_doc_words = 0;
  options.min_stop_words = 0;
  const Document doc = Filter(options, " \n\t ");
  EXPECT_TRUE(doc.ok());
  EXPECT_EQ(Int(doc, "gopher.tokens"), 0);
  EXPECT_EQ(Real(doc, "gopher.mean_word_length"), 0.0);
  EXPECT_EQ(Real(doc, "gopher.alpha_words_ratio"), 0.0);
}

TEST(GopherQualityTest, SkipsListedLanguagesWithoutSignals) {
  const std::string text = Words(3);  // outlives the documents' views
  std::vector<Document> docs{Doc(text), Doc(text)};
  docs[0].signals.push_back({"lang", std::string("zh")});
  docs[1].signals.push_back({"lang", std::string("en")});
  GopherQuality({}).Process(docs);
  EXPECT_TRUE(docs[0].ok());
  EXPECT_EQ(docs[0].signals.size(), 1u);
  EXPECT_EQ(docs[1].reason, Reason::kGopherTooFewWords);
}

TEST(GopherQualityTest, LeavesRejectedDocumentsAlone) {
  const std::string text = Words(3);
  std::vector<Document> docs{Doc(text)};
  docs[0].reason = Reason::kTooShort;
  GopherQuality({}).Process(docs);
  EXPECT_EQ(docs[0].reason, Reason::kTooShort);
  EXPECT_TRUE(docs[0].signals.empty());
}

TEST(GopherQualityTest, OddTextsNeverCrash) {
  const std::string long_line = Times("lorem ", 200'000);  // 1.2 MB
  const std::string one_token(1 << 20, 'a');
  for (const std::string_view text :
       {std::string_view(""), std::string_view("   "),
        std::string_view("\n\n\n"), std::string_view(" \t\r\n\u3000"),
        std::string_view(long_line), std::string_view(one_token),
        std::string_view("人人生而自由，在尊严和权利上一律平等。"),
        std::string_view("すべての人間は、生まれながらにして自由")}) {
    const Document doc = Filter({}, text);
    EXPECT_EQ(doc.signals.size(), 9u);
  }
  const Document doc = Filter({}, long_line);
  EXPECT_EQ(doc.reason, Reason::kGopherTooManyWords);
  EXPECT_EQ(Real(doc, "gopher.mean_word_length"), 5.0);
  EXPECT_EQ(Filter({}, one_token).reason, Reason::kGopherTooFewWords);
}

// The token-based signals, computed the obvious way from the same tokens,
// as datatrove's filter() computes them.
struct SlowMeasures {
  int64_t tokens, words;
  double mean_word_length, alpha_words_ratio;
  int64_t stop_words;
};

SlowMeasures SlowMeasure(std::string_view text) {
  std::vector<std::string_view> tokens;
  words::SplitWords(text, &tokens);
  int64_t words = 0, word_chars = 0, alpha = 0;
  std::set<std::string_view> distinct;
  for (const std::string_view token : tokens) {
    if (!words::IsAllPunctuation(token)) {
      ++words;
      word_chars += python_text::Length(token);
    }
    bool letter = false;
    for (size_t pos = 0; pos < token.size();) {
      letter |= python_text::IsAlpha(python_text::DecodeAt(token, &pos));
    }
    alpha += letter;
    distinct.insert(token);
  }
  int64_t stop_words = 0;
  for (const char* stop :
       {"the", "be", "to", "of", "and", "that", "have", "with"}) {
    stop_words += static_cast<int64_t>(distinct.count(stop));
  }
  const auto n = static_cast<int64_t>(tokens.size());
  return {n, words,
          static_cast<double>(word_chars) / static_cast<double>(words),
          static_cast<double>(alpha) / static_cast<double>(n), stop_words};
}

// Two Brown documents and two UDHR ones. The line and symbol values were
// worked out once with Python 3.11 from datatrove's definitions, on the
// decoded "text" of each line of the sample shards:
//   lines = text.splitlines()
//   bullets = sum(s.lstrip().startswith(("•", "-")) for s in lines)
//   ellipsis = sum(s.rstrip().endswith(("...", "…")) for s in lines)
//   text.count("#"), text.count("...") + text.count("…")
// The token-based signals are checked against SlowMeasure() above.
TEST(GopherQualityTest, MeasuresRealDocumentsAsDatatroveDefinesThem) {
  struct Expected {
    const char* shard;
    size_t index;
    int64_t chars;  // len(text), to be sure of the document
    int64_t lines, bullet_lines, ellipsis_lines, hashes, ellipses;
  };
  const Expected expected[] = {
      {"brown.jsonl", 1, 12308, 147, 7, 0, 0, 0},     // brown-ca02
      {"brown.jsonl", 96, 12824, 157, 8, 0, 0, 0},    // brown-cd09
      {"udhr.jsonl.gz", 220, 12239, 91, 0, 1, 0, 1},  // udhr-hns
      {"udhr.jsonl.gz", 3, 8644, 90, 7, 0, 0, 0},     // udhr-010
  };
  for (const Expected& e : expected) {
    SCOPED_TRACE(e.index);
    const std::string& text = testing::SampleTexts(e.shard).at(e.index);
    ASSERT_EQ(python_text::Length(text), e.chars);
    const Document doc = Filter({}, text);
    const SlowMeasures slow = SlowMeasure(text);
    EXPECT_EQ(Int(doc, "gopher.tokens"), slow.tokens);
    EXPECT_EQ(Int(doc, "gopher.word_count"), slow.words);
    EXPECT_DOUBLE_EQ(Real(doc, "gopher.mean_word_length"),
                     slow.mean_word_length);
    EXPECT_DOUBLE_EQ(Real(doc, "gopher.alpha_words_ratio"),
                     slow.alpha_words_ratio);
    EXPECT_EQ(Int(doc, "gopher.stop_words"), slow.stop_words);
    const auto per = [](int64_t part, int64_t whole) {
      return static_cast<double>(part) / static_cast<double>(whole);
    };
    EXPECT_DOUBLE_EQ(Real(doc, "gopher.bullet_lines_ratio"),
                     per(e.bullet_lines, e.lines));
    EXPECT_DOUBLE_EQ(Real(doc, "gopher.ellipsis_lines_ratio"),
                     per(e.ellipsis_lines, e.lines));
    EXPECT_DOUBLE_EQ(Real(doc, "gopher.hash_ratio"),
                     per(e.hashes, slow.tokens));
    EXPECT_DOUBLE_EQ(Real(doc, "gopher.ellipsis_ratio"),
                     per(e.ellipses, slow.tokens));
  }
}

// Every 20th document of the Brown and UDHR sample shards, the token-based
// signals against SlowMeasure().
TEST(GopherQualityTest, MatchesTheSlowMeasureOnSampleDocuments) {
  GopherQuality::Options options;
  options.skip_languages.clear();
  for (const char* shard : {"brown.jsonl", "udhr.jsonl.gz"}) {
    const std::vector<std::string>& texts = testing::SampleTexts(shard);
    for (size_t index = 0; index < texts.size(); index += 20) {
      SCOPED_TRACE(std::string(shard) + " " + std::to_string(index));
      const Document doc = Filter(options, texts[index]);
      const SlowMeasures slow = SlowMeasure(texts[index]);
      EXPECT_EQ(Int(doc, "gopher.tokens"), slow.tokens);
      EXPECT_EQ(Int(doc, "gopher.word_count"), slow.words);
      if (slow.words != 0) {
        EXPECT_DOUBLE_EQ(Real(doc, "gopher.mean_word_length"),
                         slow.mean_word_length);
      }
      EXPECT_DOUBLE_EQ(Real(doc, "gopher.alpha_words_ratio"),
                       slow.alpha_words_ratio);
      EXPECT_EQ(Int(doc, "gopher.stop_words"), slow.stop_words);
    }
  }
}

TEST(PythonTextTest, MatchesPythonStrMethods) {
  namespace py = python_text;
  EXPECT_EQ(py::Length("Grüße 人"), 7);
  EXPECT_EQ(py::Strip("\u3000\u00a0 a b\u2029\x1f"), "a b");
  EXPECT_EQ(py::LStrip(" \u200b a"), "\u200b a");  // ZWSP is not a space
  EXPECT_EQ(py::RStrip("a \u0085"), "a");
  EXPECT_EQ(py::Strip(" \t "), "");
  EXPECT_EQ(py::Count("....", "..."), 1);
  EXPECT_EQ(py::Count("......", "..."), 2);
  EXPECT_EQ(py::Count("a\u2026b\u2026", "\u2026"), 2);
  std::vector<std::string_view> lines;
  py::SplitLines("a\r\nb\n\nc\rd\u0085e\x1c", &lines);
  EXPECT_EQ(lines,
            (std::vector<std::string_view>{"a", "b", "", "c", "d", "e"}));
  lines.clear();
  py::SplitLines("", &lines);
  EXPECT_TRUE(lines.empty());
  py::SplitLines("\n", &lines);
  EXPECT_EQ(lines, (std::vector<std::string_view>{""}));
  EXPECT_TRUE(py::IsAlpha(U'ß'));
  EXPECT_TRUE(py::IsAlpha(U'人'));
  EXPECT_FALSE(py::IsAlpha(U'٣'));
  EXPECT_FALSE(py::IsAlpha(U'_'));
}

}  // namespace
}  // namespace needle
