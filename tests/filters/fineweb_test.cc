#include "filters/fineweb.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "tests/test_util.h"

namespace needle {
namespace {

Document Processed(const FinewebQuality::Options& options,
                   std::string_view text) {
  std::vector<Document> docs(1);
  docs[0].text = text;
  FinewebQuality(options).Process(docs);
  return docs[0];
}

template <class T>
T SignalOf(const Document& doc, std::string_view key) {
  const T* value = doc.FindSignal<T>(key);
  if (value == nullptr)
    throw std::runtime_error("no signal " + std::string(key));
  return *value;
}

// A line of exactly `length` code points (at least 12), unique to `index`,
// of words of four letters, ending in `end`.
std::string Line(int index, int length, std::string_view end = ".") {
  std::string line = "Line " + std::to_string(index + 1000);  // 9 characters
  while (static_cast<int>(line.size()) < length - 1) {
    line += line.size() % 5 == 4 ? ' ' : 'w';
  }
  if (line.back() == ' ') line.back() = 'w';
  return line + std::string(end);
}

// `count` lines of 40 characters joined by "\n", the first `punct` of them
// ending in ".", the others in "w".
std::string Lines(int count, int punct) {
  std::string text;
  for (int i = 0; i < count; ++i) {
    if (i > 0) text += '\n';
    text += Line(i, 40, i < punct ? "." : "w");
  }
  return text;
}

TEST(FinewebQualityTest, RejectsTooFewLinesEndingInPunctuation) {
  const FinewebQuality::Options defaults;
  // 3 of 25 is exactly line_punct_thr, 0.12: kept.
  const Document at = Processed(defaults, Lines(25, 3));
  EXPECT_TRUE(at.ok());
  EXPECT_EQ(SignalOf<double>(at, "fineweb.line_punct_ratio"), 3.0 / 25);
  const Document below = Processed(defaults, Lines(25, 2));
  EXPECT_EQ(below.reason, Reason::kFinewebLinePunctRatio);
  EXPECT_EQ(below.reject_stage, "fineweb");
}

TEST(FinewebQualityTest, ExemptsNoPunctuationAtAllWithExcludeZero) {
  FinewebQuality::Options options;
  options.line_punct_exclude_zero = true;
  EXPECT_TRUE(Processed(options, Lines(25, 0)).ok());
  EXPECT_EQ(Processed(options, Lines(25, 2)).reason,
            Reason::kFinewebLinePunctRatio);
  EXPECT_EQ(Processed(FinewebQuality::Options(), Lines(25, 0)).reason,
            Reason::kFinewebLinePunctRatio);
}

TEST(FinewebQualityTest, CountsTerminalPunctuationOfOtherScripts) {
  const FinewebQuality::Options defaults;
  const std::string text = Line(1, 40, "\u0964") + "\n" +  // Devanagari danda
                           Line(2, 40, "\u3002") + "\n" +  // ideographic stop
                           Line(3, 40, "!") + "\n" + Line(4, 40, "?");
  EXPECT_EQ(
      SignalOf<double>(Processed(defaults, text), "fineweb.line_punct_ratio"),
      1.0);
  // Quotes, colons and a line's "\r" are not terminal punctuation.
  const std::string others = Line(1, 40, ".\"") + "\n" + Line(2, 40, ":") +
                             "\n" + Line(3, 40, ".\r") + "\n" + Line(4, 40);
  EXPECT_EQ(
      SignalOf<double>(Processed(defaults, others), "fineweb.line_punct_ratio"),
      0.25);
}

TEST(FinewebQualityTest, UsesStopCharsWhenGiven) {
  FinewebQuality::Options options;
  options.stop_chars = {"!", ".\""};
  const std::string text = Line(1, 40, "!") + "\n" + Line(2, 40, ".\"") + "\n" +
                           Line(3, 40, ".") + "\n" + Line(4, 40, ".");
  EXPECT_EQ(
      SignalOf<double>(Processed(options, text), "fineweb.line_punct_ratio"),
      0.5);
}

TEST(FinewebQualityTest, RejectsTooManyShortLines) {
  const FinewebQuality::Options defaults;
  // 67 lines of 30 characters among 100: exactly short_line_thr, kept.
  const auto text = [](int short_lines) {
    std::string text;
    for (int i = 0; i < 100; ++i) {
      text += Line(i, i < short_lines ? 30 : 31) + "\n";
    }
    return text;
  };
  const Document at = Processed(defaults, text(67));
  EXPECT_TRUE(at.ok());
  EXPECT_EQ(SignalOf<double>(at, "fineweb.short_line_ratio"), 0.67);
  EXPECT_EQ(Processed(defaults, text(68)).reason,
            Reason::kFinewebShortLineRatio);
}

TEST(FinewebQualityTest, MeasuresLineLengthInCodePoints) {
  FinewebQuality::Options options;
  options.short_line_thr = 0.0;
  std::string body;  // 29 code points, 53 bytes
  for (int i = 0; i < 29; ++i) body += i % 5 == 4 ? " " : "\u00e9";
  EXPECT_EQ(Processed(options, body + ".").reason,  // 30 code points: short
            Reason::kFinewebShortLineRatio);
  EXPECT_TRUE(Processed(options, body + "\u00e9.").ok());
}

TEST(FinewebQualityTest, RejectsTooManyCharactersInDuplicatedLines) {
  const FinewebQuality::Options defaults;
  // A 10-character line twice and 14 distinct 70-character lines: 10 of
  // 1000 characters are duplicated, exactly char_duplicates_ratio.
  std::string at = "Dup lines.\n\nDup lines.\n";
  for (int i = 0; i < 14; ++i) at += Line(i, 70) + "\n";
  const Document kept = Processed(defaults, at);
  EXPECT_TRUE(kept.ok());
  EXPECT_EQ(SignalOf<double>(kept, "fineweb.char_dup_ratio"), 0.01);
  // Now 11 of 1000.
  std::string over = "Dup liness.\nDup liness.\n";
  for (int i = 0; i < 13; ++i) over += Line(i, 70) + "\n";
  over += Line(13, 68);
  const Document rejected = Processed(defaults, over);
  EXPECT_EQ(SignalOf<double>(rejected, "fineweb.char_dup_ratio"), 0.011);
  EXPECT_EQ(rejected.reason, Reason::kFinewebCharDupRatio);
}

TEST(FinewebQualityTest, CountsEveryRepeatButNotTheFirstOccurrence) {
  FinewebQuality::Options options;
  options.char_duplicates_ratio = 1.0;
  options.short_line_thr = 1.0;
  // "Same." three times: 10 of 17 characters (two are spaces) are in
  // repeats. A blank line never counts as one, however often.
  const Document doc = Processed(options, "Same.\n\n\nSame.\n \n \nSame.");
  EXPECT_EQ(SignalOf<double>(doc, "fineweb.char_dup_ratio"), 10.0 / 17);
  EXPECT_EQ(SignalOf<int64_t>(doc, "fineweb.lines"), 3);
}

TEST(FinewebQualityTest, FindsDuplicatesAmongManyLines) {
  FinewebQuality::Options options;
  options.char_duplicates_ratio = 1.0;
  // 3000 distinct lines of 40 characters, then the first 1000 again: 40000
  // of 160000 characters are in repeats.
  std::string text;
  for (int i = 0; i < 3000; ++i) text += Line(i, 40) + "\n";
  for (int i = 0; i < 1000; ++i) text += Line(i, 40) + "\n";
  const Document doc = Processed(options, text);
  EXPECT_EQ(SignalOf<double>(doc, "fineweb.char_dup_ratio"), 0.25);
  EXPECT_EQ(SignalOf<int64_t>(doc, "fineweb.lines"), 4000);
}

TEST(FinewebQualityTest, RejectsTooManyNewlinesPerWord) {
  FinewebQuality::Options options;
  options.line_punct_thr = 0;  // these lines have no punctuation
  options.short_line_thr = 1;
  const std::string ten_words =
      "alpha beta gamma delta epsilon\nzeta eta theta iota kappa\n";
  // 3 newlines for 10 words: exactly new_line_ratio, 0.3.
  const Document at = Processed(options, ten_words + "\n");
  EXPECT_TRUE(at.ok());
  EXPECT_EQ(SignalOf<double>(at, "fineweb.list_ratio"), 0.3);
  const Document over = Processed(options, ten_words + "\n\n");
  EXPECT_EQ(SignalOf<double>(over, "fineweb.list_ratio"), 0.4);
  EXPECT_EQ(over.reason, Reason::kFinewebListRatio);
}

TEST(FinewebQualityTest, RejectsForTheFirstRuleAndRecordsAllSignals) {
  // No punctuation, all short, all the same line, one word per line.
  const Document doc =
      Processed(FinewebQuality::Options(), "word\nword\nword\nword");
  EXPECT_EQ(doc.reason, Reason::kFinewebLinePunctRatio);
  EXPECT_EQ(SignalOf<double>(doc, "fineweb.short_line_ratio"), 1.0);
  EXPECT_EQ(SignalOf<double>(doc, "fineweb.char_dup_ratio"), 0.75);
  EXPECT_EQ(SignalOf<double>(doc, "fineweb.list_ratio"), 0.75);
}

TEST(FinewebQualityTest, RejectsTextWithoutANonBlankLine) {
  FinewebQuality::Options options;
  options.line_punct_exclude_zero = true;  // still rejected, as datatrove
  for (const std::string_view text : {"", " ", "\n\n", " \t\r\n\u00a0\u3000"}) {
    const Document doc = Processed(options, text);
    EXPECT_EQ(doc.reason, Reason::kFinewebLinePunctRatio);
    EXPECT_EQ(SignalOf<int64_t>(doc, "fineweb.lines"), 0);
  }
}

TEST(FinewebQualityTest, SkipsListedLanguagesUnmeasured) {
  std::vector<Document> docs(2);
  docs[0].text = docs[1].text = "word\nword";
  const Signal japanese{"lang", std::string("ja")};
  const Signal english{"lang", std::string("en")};
  docs[0].signals.push_back(japanese);
  docs[1].signals.push_back(english);
  FinewebQuality(FinewebQuality::Options()).Process(docs);
  EXPECT_TRUE(docs[0].ok());
  EXPECT_EQ(docs[0].signals.size(), 1u);
  EXPECT_EQ(docs[1].reason, Reason::kFinewebLinePunctRatio);
}

TEST(FinewebQualityTest, SurvivesHugeAndCjkTexts) {
  std::string huge;
  while (huge.size() < (1 << 20)) huge += "word ";
  huge += "end.";
  const Document doc = Processed(FinewebQuality::Options(), huge);
  EXPECT_TRUE(doc.ok());
  EXPECT_EQ(SignalOf<double>(doc, "fineweb.list_ratio"), 0.0);
  const Document cjk =
      Processed(FinewebQuality::Options(),
                "人人生而自由，在尊严和权利上一律平等。\n"
                "他们赋有理性和良心，并应以兄弟关系的精神相对待。");
  EXPECT_EQ(SignalOf<double>(cjk, "fineweb.line_punct_ratio"), 1.0);
  EXPECT_EQ(SignalOf<double>(cjk, "fineweb.short_line_ratio"), 1.0);
}

// Expected values: the expressions of datatrove's
// FineWebQualityFilter.filter (fineweb_quality_filter.py at a649de79) in
// python3 on the same texts, TERMINAL_PUNCTUATION taken from its
// utils/text.py: non-blank lines of text.split("\n"), those ending in a
// terminal mark, those of at most 30 characters, the characters of
// find_duplicates over len(text.replace("\n", "")). The list ratio needs
// NLTK's tokenizer and is left out.
TEST(FinewebQualityTest, MatchesDatatroveOnRealDocuments) {
  struct Case {
    std::string shard, id;
    int64_t lines, punct, short_lines, dup_chars, chars;
  };
  const Case cases[] = {
      {"brown.jsonl", "brown-ca01", 74, 68, 6, 0, 12103},
      {"brown.jsonl", "brown-ca02", 74, 65, 8, 52, 12162},
      {"udhr.jsonl.gz", "udhr-eng", 92, 51, 33, 0, 10546},
      {"udhr.jsonl.gz", "udhr-hin", 92, 81, 33, 0, 10744},  // "।" ends most
      {"udhr.jsonl.gz", "udhr-rus", 91, 51, 32, 0, 11621},
  };
  for (const Case& c : cases) {
    const Document doc = Processed(FinewebQuality::Options(),
                                   testing::SampleText(c.shard, c.id));
    const auto ratio = [](int64_t part, int64_t whole) {
      return static_cast<double>(part) / static_cast<double>(whole);
    };
    EXPECT_EQ(SignalOf<int64_t>(doc, "fineweb.lines"), c.lines) << c.id;
    EXPECT_EQ(SignalOf<double>(doc, "fineweb.line_punct_ratio"),
              ratio(c.punct, c.lines))
        << c.id;
    EXPECT_EQ(SignalOf<double>(doc, "fineweb.short_line_ratio"),
              ratio(c.short_lines, c.lines))
        << c.id;
    EXPECT_EQ(SignalOf<double>(doc, "fineweb.char_dup_ratio"),
              ratio(c.dup_chars, c.chars))
        << c.id;
  }
}

}  // namespace
}  // namespace needle
