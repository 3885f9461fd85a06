#include "filters/gopher_repetition.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "filters/python_text.h"
#include "filters/words.h"
#include "tests/test_util.h"

// Hand-made documents use only tokens that every tokenizer agrees on (plain
// lowercase words separated by spaces), so the expected values below are
// counted by hand and do not depend on words::SplitWords' NLTK corner cases.
// Each rule is tested alone, the others set to 0 (off).

namespace needle {
namespace {

using Options = GopherRepetition::Options;

Document Filter(const Options& options, std::string_view text) {
  Document doc;
  doc.text = text;
  std::vector<Document> docs{doc};
  GopherRepetition(options).Process(docs);
  return docs[0];
}

double Real(const Document& doc, std::string_view key) {
  const double* value = doc.FindSignal<double>(key);
  EXPECT_NE(value, nullptr) << key;
  return value == nullptr ? -1 : *value;
}

// Every rule off but the one `field` names, at its default.
Options Only(double Options::*field) {
  const Options defaults;
  Options o;
  for (double Options::*f :
       {&Options::dup_para_frac, &Options::dup_para_char_frac,
        &Options::dup_line_frac, &Options::dup_line_char_frac,
        &Options::top_2gram_frac, &Options::top_3gram_frac,
        &Options::top_4gram_frac, &Options::dup_5gram_frac,
        &Options::dup_6gram_frac, &Options::dup_7gram_frac,
        &Options::dup_8gram_frac, &Options::dup_9gram_frac,
        &Options::dup_10gram_frac}) {
    o.*f = 0;
  }
  o.*field = defaults.*field;
  return o;
}

// `text` followed by spaces up to `chars` code points: the spaces make no
// token, line or paragraph, only the denominator len(text).
std::string Pad(std::string text, int64_t chars) {
  text.append(static_cast<size_t>(chars - python_text::Length(text)), ' ');
  return text;
}

std::string Join(std::initializer_list<std::string_view> pieces,
                 std::string_view separator) {
  std::string text;
  for (const std::string_view piece : pieces) {
    if (!text.empty()) text += separator;
    text += piece;
  }
  return text;
}

TEST(GopherRepetitionTest, DefaultsAreDatatroves) {
  const Options o;
  EXPECT_EQ(o.dup_line_frac, 0.3);
  EXPECT_EQ(o.dup_para_frac, 0.3);
  EXPECT_EQ(o.dup_line_char_frac, 0.2);
  EXPECT_EQ(o.dup_para_char_frac, 0.2);
  EXPECT_EQ(o.top_2gram_frac, 0.2);
  EXPECT_EQ(o.top_3gram_frac, 0.18);
  EXPECT_EQ(o.top_4gram_frac, 0.16);
  EXPECT_EQ(o.dup_5gram_frac, 0.15);
  EXPECT_EQ(o.dup_6gram_frac, 0.14);
  EXPECT_EQ(o.dup_7gram_frac, 0.13);
  EXPECT_EQ(o.dup_8gram_frac, 0.12);
  EXPECT_EQ(o.dup_9gram_frac, 0.11);
  EXPECT_EQ(o.dup_10gram_frac, 0.10);
}

TEST(GopherRepetitionTest, KeepsADocumentWithoutRepeatsAndRecordsAll) {
  // "w0 w1 ... w29", a blank line, "w30 ... w59": 230 characters.
  std::string text;
  for (int i = 0; i < 60; ++i) {
    text += i == 0 ? "" : i == 30 ? "\n\n" : " ";
    text += "w" + std::to_string(i);
  }
  ASSERT_EQ(text.size(), 230u);
  const Document doc = Filter({}, text);
  EXPECT_TRUE(doc.ok());
  EXPECT_EQ(doc.signals.size(), 13u);
  EXPECT_EQ(Real(doc, "gopher_rep.dup_para_frac"), 0.0);
  EXPECT_EQ(Real(doc, "gopher_rep.dup_line_char_frac"), 0.0);
  EXPECT_EQ(Real(doc, "gopher_rep.dup_10gram_frac"), 0.0);
  // Every n-gram occurs once, so the top one is the first: "w0 w1" has 5
  // characters, "w0 w1 w2 w3" 11.
  EXPECT_DOUBLE_EQ(Real(doc, "gopher_rep.top_2gram_frac"), 5.0 / 230);
  EXPECT_DOUBLE_EQ(Real(doc, "gopher_rep.top_4gram_frac"), 11.0 / 230);
}

TEST(GopherRepetitionTest, RejectsTooManyDuplicateParagraphs) {
  const Options o = Only(&Options::dup_para_frac);
  // 10 paragraphs, 3 repeat "a": 0.3, kept; 11 with 4 repeats: 4 / 11.
  const std::string three =
      Join({"a", "b", "c", "d", "e", "f", "g", "a", "a", "a"}, "\n\n");
  const Document kept = Filter(o, three);
  EXPECT_TRUE(kept.ok());
  EXPECT_EQ(Real(kept, "gopher_rep.dup_para_frac"), 0.3);
  const Document doc = Filter(o, three + "\n\na");
  EXPECT_EQ(doc.reason, Reason::kGopherDupParaFrac);
  EXPECT_EQ(doc.reject_stage, "gopher_repetition");
  EXPECT_DOUBLE_EQ(Real(doc, "gopher_rep.dup_para_frac"), 4.0 / 11);
}

TEST(GopherRepetitionTest, RejectsTooManyCharactersInDuplicateParagraphs) {
  const Options o = Only(&Options::dup_para_char_frac);
  // "abcd" repeats: 4 of 20 characters, kept; of 19, rejected.
  const Document kept = Filter(o, "abcd\n\nefghijkl\n\nabcd");
  EXPECT_TRUE(kept.ok());
  EXPECT_EQ(Real(kept, "gopher_rep.dup_para_char_frac"), 0.2);
  const Document doc = Filter(o, "abcd\n\nefghijk\n\nabcd");
  EXPECT_EQ(doc.reason, Reason::kGopherDupParaCharFrac);
  EXPECT_DOUBLE_EQ(Real(doc, "gopher_rep.dup_para_char_frac"), 4.0 / 19);
}

TEST(GopherRepetitionTest, ParagraphsSplitTheStrippedTextAtBlankLines) {
  // Paragraphs: "ab", "ab" (the text is stripped, three '\n' are one break).
  // Lines: "", "ab", "ab", "" (not stripped). 11 characters.
  const Document doc = Filter({}, "\n\nab\n\n\nab\n\n");
  EXPECT_EQ(Real(doc, "gopher_rep.dup_para_frac"), 0.5);
  EXPECT_DOUBLE_EQ(Real(doc, "gopher_rep.dup_para_char_frac"), 2.0 / 11);
  EXPECT_EQ(Real(doc, "gopher_rep.dup_line_frac"), 0.5);
  EXPECT_DOUBLE_EQ(Real(doc, "gopher_rep.dup_line_char_frac"), 2.0 / 11);
  // A line of spaces is no paragraph break.
  EXPECT_EQ(Real(Filter({}, "ab\n \nab"), "gopher_rep.dup_para_frac"), 0.0);
}

TEST(GopherRepetitionTest, RejectsTooManyDuplicateLines) {
  const Options o = Only(&Options::dup_line_frac);
  const std::string three =
      Join({"a", "b", "c", "d", "e", "f", "g", "a", "a", "a"}, "\n");
  const Document kept = Filter(o, three);
  EXPECT_TRUE(kept.ok());
  EXPECT_EQ(Real(kept, "gopher_rep.dup_line_frac"), 0.3);
  const Document doc = Filter(o, three + "\na");
  EXPECT_EQ(doc.reason, Reason::kGopherDupLineFrac);
  EXPECT_DOUBLE_EQ(Real(doc, "gopher_rep.dup_line_frac"), 4.0 / 11);
}

TEST(GopherRepetitionTest, RejectsTooManyCharactersInDuplicateLines) {
  const Options o = Only(&Options::dup_line_char_frac);
  const Document kept = Filter(o, "abcd\nefghijklmn\nabcd");  // 4 / 20
  EXPECT_TRUE(kept.ok());
  EXPECT_EQ(Real(kept, "gopher_rep.dup_line_char_frac"), 0.2);
  const Document doc = Filter(o, "abcd\nefghijklm\nabcd");  // 4 / 19
  EXPECT_EQ(doc.reason, Reason::kGopherDupLineCharFrac);
}

TEST(GopherRepetitionTest, NewlinesAtEitherEndMakeEmptyLines) {
  // re.split("\n+", "\nx\n") is ["", "x", ""]: the second "" repeats.
  const Document doc = Filter({}, "\nx\n");
  EXPECT_DOUBLE_EQ(Real(doc, "gopher_rep.dup_line_frac"), 1.0 / 3);
  EXPECT_EQ(Real(doc, "gopher_rep.dup_line_char_frac"), 0.0);
  EXPECT_EQ(doc.reason, Reason::kGopherDupLineFrac);
}

TEST(GopherRepetitionTest, RejectsATooFrequentTop2gram) {
  // "ab cd" twice: 5 * 2 = 10 characters, of 50 (kept) or 49.
  const Options o = Only(&Options::top_2gram_frac);
  const Document kept = Filter(o, Pad("ab cd ab cd", 50));
  EXPECT_TRUE(kept.ok());
  EXPECT_EQ(Real(kept, "gopher_rep.top_2gram_frac"), 0.2);
  const Document doc = Filter(o, Pad("ab cd ab cd", 49));
  EXPECT_EQ(doc.reason, Reason::kGopherTop2gram);
  EXPECT_DOUBLE_EQ(Real(doc, "gopher_rep.top_2gram_frac"), 10.0 / 49);
}

TEST(GopherRepetitionTest, RejectsATooFrequentTop3gram) {
  // "abc de fg" twice: 9 * 2 = 18 characters, of 100 or 99.
  const Options o = Only(&Options::top_3gram_frac);
  const Document kept = Filter(o, Pad("abc de fg abc de fg", 100));
  EXPECT_TRUE(kept.ok());
  EXPECT_EQ(Real(kept, "gopher_rep.top_3gram_frac"), 0.18);
  EXPECT_EQ(Filter(o, Pad("abc de fg abc de fg", 99)).reason,
            Reason::kGopherTop3gram);
}

TEST(GopherRepetitionTest, RejectsATooFrequentTop4gram) {
  // "a b c de" twice: 8 * 2 = 16 characters, of 100 or 99.
  const Options o = Only(&Options::top_4gram_frac);
  const Document kept = Filter(o, Pad("a b c de a b c de", 100));
  EXPECT_TRUE(kept.ok());
  EXPECT_EQ(Real(kept, "gopher_rep.top_4gram_frac"), 0.16);
  EXPECT_EQ(Filter(o, Pad("a b c de a b c de", 99)).reason,
            Reason::kGopherTop4gram);
}

TEST(GopherRepetitionTest, TopNgramTiesGoToTheFirstSeen) {
  // All three 2-grams occur once; "a b" (3 characters) comes first, though
  // "cccc dddd" (9) is longer: Counter.most_common(1) keeps insertion order.
  const Document doc = Filter({}, "a b cccc dddd");
  EXPECT_DOUBLE_EQ(Real(doc, "gopher_rep.top_2gram_frac"), 3.0 / 13);
}

struct DupCase {
  double Options::*field;
  const char* key;
  Reason reason;
  const char* ngram;  // repeated once; its characters without spaces
  int64_t chars_at_threshold;
};

TEST(GopherRepetitionTest, RejectsTooManyCharactersInDuplicateNgrams) {
  // Each n-gram's characters, joined without spaces, over len(text):
  //   5: "aa b c d e" 6 / 40 = 0.15     6: "aa b c d e f" 7 / 50 = 0.14
  //   7: 13 / 100 = 0.13                8: 12 / 100 = 0.12
  //   9: 11 / 100 = 0.11               10: 10 / 100 = 0.10
  const DupCase cases[] = {
      {&Options::dup_5gram_frac, "gopher_rep.dup_5gram_frac",
       Reason::kGopherDup5gram, "aa b c d e", 40},
      {&Options::dup_6gram_frac, "gopher_rep.dup_6gram_frac",
       Reason::kGopherDup6gram, "aa b c d e f", 50},
      {&Options::dup_7gram_frac, "gopher_rep.dup_7gram_frac",
       Reason::kGopherDup7gram, "aaaaaaa b c d e f g", 100},
      {&Options::dup_8gram_frac, "gopher_rep.dup_8gram_frac",
       Reason::kGopherDup8gram, "aaaaa b c d e f g h", 100},
      {&Options::dup_9gram_frac, "gopher_rep.dup_9gram_frac",
       Reason::kGopherDup9gram, "aaa b c d e f g h i", 100},
      {&Options::dup_10gram_frac, "gopher_rep.dup_10gram_frac",
       Reason::kGopherDup10gram, "a b c d e f g h i j", 100},
  };
  for (const DupCase& c : cases) {
    SCOPED_TRACE(c.key);
    const Options o = Only(c.field);
    const std::string twice = std::string(c.ngram) + " " + c.ngram;
    const Document kept = Filter(o, Pad(twice, c.chars_at_threshold));
    EXPECT_TRUE(kept.ok());
    EXPECT_EQ(Real(kept, c.key), Options().*c.field);
    const Document doc = Filter(o, Pad(twice, c.chars_at_threshold - 1));
    EXPECT_EQ(doc.reason, c.reason);
  }
}

TEST(GopherRepetitionTest, DuplicateNgramWalkJumpsPastARepeat) {
  // Twelve "x" (23 characters). For n = 5 the walk meets "xxxxx" new at 0,
  // seen at 1 (+5, jump to 6), seen at 6 (+5, jump to 11), and stops (the
  // last 5-gram starts at 7): 10. For n = 6..10 one repeat fits: n.
  // Overlapping repeats make the top n-gram fractions exceed 1: "x x"
  // occurs 11 times (33), "x x x" 10 (50), "x x x x" 9 (63).
  std::string text = "x";
  for (int i = 1; i < 12; ++i) text += " x";
  const Document doc = Filter({}, text);
  const char* dup_keys[] = {
      "gopher_rep.dup_5gram_frac", "gopher_rep.dup_6gram_frac",
      "gopher_rep.dup_7gram_frac", "gopher_rep.dup_8gram_frac",
      "gopher_rep.dup_9gram_frac", "gopher_rep.dup_10gram_frac"};
  const double dup_chars[] = {10, 6, 7, 8, 9, 10};
  for (int i = 0; i < 6; ++i) {
    EXPECT_DOUBLE_EQ(Real(doc, dup_keys[i]), dup_chars[i] / 23) << i;
  }
  EXPECT_DOUBLE_EQ(Real(doc, "gopher_rep.top_2gram_frac"), 33.0 / 23);
  EXPECT_DOUBLE_EQ(Real(doc, "gopher_rep.top_3gram_frac"), 50.0 / 23);
  EXPECT_DOUBLE_EQ(Real(doc, "gopher_rep.top_4gram_frac"), 63.0 / 23);
}

TEST(GopherRepetitionTest, DuplicateNgramsCompareTheirJoinedText) {
  // "ab c d e f" and "a bc d e f" both join to "abcdef": a repeat of 6
  // characters, of 21. No 6-gram repeats.
  const Document doc = Filter({}, "ab c d e f a bc d e f");
  EXPECT_DOUBLE_EQ(Real(doc, "gopher_rep.dup_5gram_frac"), 6.0 / 21);
  EXPECT_EQ(Real(doc, "gopher_rep.dup_6gram_frac"), 0.0);
}

TEST(GopherRepetitionTest, RejectsWithTheFirstFailingRuleButRecordsAll) {
  // Repeated paragraphs fail every rule; paragraphs come first.
  const Document doc = Filter({}, "a b c d e f g h i j\n\na b c d e f g h i j");
  EXPECT_EQ(doc.reason, Reason::kGopherDupParaFrac);
  EXPECT_EQ(doc.signals.size(), 13u);
  EXPECT_DOUBLE_EQ(Real(doc, "gopher_rep.dup_10gram_frac"), 10.0 / 40);
}

TEST(GopherRepetitionTest, ZeroTurnsARuleOff) {
  Options o = Only(&Options::dup_para_frac);
  o.dup_para_frac = 0;
  EXPECT_TRUE(Filter(o, "a b c d e f g h i j\n\na b c d e f g h i j").ok());
}

TEST(GopherRepetitionTest, SkipsListedLanguagesWithoutSignals) {
  Document doc;
  doc.text = "x\nx\nx";
  doc.signals.push_back({"lang", std::string("ja")});
  std::vector<Document> docs{doc, doc};
  docs[1].signals[0].value = std::string("en");
  GopherRepetition({}).Process(docs);
  EXPECT_TRUE(docs[0].ok());
  EXPECT_EQ(docs[0].signals.size(), 1u);
  EXPECT_EQ(docs[1].reason, Reason::kGopherDupLineFrac);
}

TEST(GopherRepetitionTest, OddTextsNeverCrash) {
  std::string long_line;
  for (int i = 0; i < 150'000; ++i) long_line += "w" + std::to_string(i) + " ";
  const std::string one_token(1 << 20, 'a');
  for (const std::string_view text :
       {std::string_view(""), std::string_view(" "), std::string_view("\n"),
        std::string_view("\n\n\n"), std::string_view(" \t\r\n\u3000"),
        std::string_view(long_line), std::string_view(one_token),
        std::string_view("人人生而自由，在尊严和权利上一律平等。"),
        std::string_view("すべての人間は、\n\nすべての人間は、")}) {
    const Document doc = Filter({}, text);
    EXPECT_EQ(doc.signals.size(), 13u);
  }
  // 150,000 distinct words: no repeat at all.
  const Document doc = Filter({}, long_line);
  EXPECT_TRUE(doc.ok());
  EXPECT_EQ(Real(doc, "gopher_rep.dup_5gram_frac"), 0.0);
}

// datatrove's n-gram functions, the obvious way: n-grams as joined strings
// in ordered containers.
int64_t SlowTopNgramChars(const std::vector<std::string_view>& words,
                          size_t n) {
  if (words.size() < n) return 0;
  std::map<std::string, std::pair<int64_t, size_t>> counts;  // count, first
  for (size_t i = 0; i + n <= words.size(); ++i) {
    std::string ngram(words[i]);
    for (size_t k = 1; k < n; ++k) ngram += " " + std::string(words[i + k]);
    auto [it, added] = counts.try_emplace(ngram, 0, i);
    ++it->second.first;
  }
  const std::pair<const std::string, std::pair<int64_t, size_t>>* top = nullptr;
  for (const auto& entry : counts) {
    if (top == nullptr || entry.second.first > top->second.first ||
        (entry.second.first == top->second.first &&
         entry.second.second < top->second.second)) {
      top = &entry;
    }
  }
  return python_text::Length(top->first) * top->second.first;
}

int64_t SlowDuplicateNgramChars(const std::vector<std::string_view>& words,
                                size_t n) {
  std::set<std::string> unique;
  int64_t repeated = 0;
  for (size_t idx = 0; idx + n <= words.size();) {
    std::string ngram;
    for (size_t k = 0; k < n; ++k) ngram += words[idx + k];
    if (unique.count(ngram) != 0) {
      repeated += python_text::Length(ngram);
      idx += n;
    } else {
      unique.insert(ngram);
      ++idx;
    }
  }
  return repeated;
}

void ExpectNgramsMatchTheSlowReference(std::string_view text) {
  std::vector<std::string_view> words;
  words::SplitWords(text, &words);
  const auto chars = static_cast<double>(python_text::Length(text));
  const GopherRepetition::Measures m = GopherRepetition::Measure(text);
  for (size_t n = 2; n <= 4; ++n) {
    EXPECT_DOUBLE_EQ(m.top_ngram_frac[n - 2],
                     SlowTopNgramChars(words, n) / chars)
        << n;
  }
  for (size_t n = 5; n <= 10; ++n) {
    EXPECT_DOUBLE_EQ(m.dup_ngram_frac[n - 5],
                     SlowDuplicateNgramChars(words, n) / chars)
        << n;
  }
}

TEST(GopherRepetitionTest, NgramsMatchTheSlowReferenceOnRandomTexts) {
  // A small vocabulary makes repeats, ties and equal concatenations
  // ("a" "b" and "ab") common.
  const char* vocabulary[] = {"a", "b", "ab", "ba", "c", "é", "abc"};
  std::mt19937 random(7);
  for (int round = 0; round < 300; ++round) {
    std::string text;
    const int tokens = static_cast<int>(random() % 60);
    for (int i = 0; i < tokens; ++i) {
      text += vocabulary[random() % std::size(vocabulary)];
      text += random() % 8 == 0 ? "\n" : " ";
    }
    if (text.empty()) continue;
    SCOPED_TRACE(text);
    ExpectNgramsMatchTheSlowReference(text);
  }
}

TEST(GopherRepetitionTest, NgramsMatchTheSlowReferenceOnLongWords) {
  // Words long enough that most n-grams span 16 bytes or more (the fast
  // path's window filter passes unique ones by), few enough that many
  // repeat, with splits that join to the same text ("thereafter" and
  // "there" "after").
  const char* vocabulary[] = {"there",      "after", "thereafter", "gopher",
                              "repetition", "n",     "gram",       "ngram",
                              "éléphant",   "é",     "léphant"};
  std::mt19937 random(8);
  for (int round = 0; round < 300; ++round) {
    std::string text;
    const int tokens = static_cast<int>(random() % 200);
    const size_t words = 2 + random() % (std::size(vocabulary) - 1);
    for (int i = 0; i < tokens; ++i) {
      text += vocabulary[random() % words];
      text += random() % 8 == 0 ? "\n" : " ";
    }
    if (text.empty()) continue;
    SCOPED_TRACE(text);
    ExpectNgramsMatchTheSlowReference(text);
  }
}

// datatrove's find_duplicates on paragraphs and lines, the obvious way:
// re.split with std::regex, seen pieces in a std::set.
struct SlowDuplicates {
  int64_t pieces = 0, dup_pieces = 0, dup_chars = 0;
};

SlowDuplicates SlowFindDuplicates(const std::string& text,
                                  const std::string& separator) {
  const std::regex split(separator);
  SlowDuplicates d;
  std::set<std::string> seen;
  for (std::sregex_token_iterator it(text.begin(), text.end(), split, -1), end;
       it != end; ++it) {
    ++d.pieces;
    if (!seen.insert(it->str()).second) {
      ++d.dup_pieces;
      d.dup_chars += python_text::Length(it->str());
    }
  }
  // sregex_token_iterator drops a final empty piece; re.split keeps it.
  if (!text.empty() && std::regex_search(text, std::regex(separator + "$"))) {
    ++d.pieces;
    if (!seen.insert("").second) ++d.dup_pieces;
  }
  if (text.empty()) d.pieces = 1;  // re.split("", ...) is [""]
  return d;
}

// Every 20th document of the Brown and UDHR sample shards, every signal
// against the slow references above.
TEST(GopherRepetitionTest, MatchesTheSlowReferencesOnSampleDocuments) {
  for (const char* shard : {"brown.jsonl", "udhr.jsonl.gz"}) {
    const std::vector<std::string>& texts = testing::SampleTexts(shard);
    for (size_t index = 0; index < texts.size(); index += 20) {
      SCOPED_TRACE(std::string(shard) + " " + std::to_string(index));
      const std::string& text = texts[index];
      const auto chars = static_cast<double>(python_text::Length(text));
      const SlowDuplicates paras =
          SlowFindDuplicates(std::string(python_text::Strip(text)), "\n{2,}");
      const SlowDuplicates lines = SlowFindDuplicates(text, "\n+");
      const GopherRepetition::Measures m = GopherRepetition::Measure(text);
      EXPECT_DOUBLE_EQ(m.dup_para_frac, static_cast<double>(paras.dup_pieces) /
                                            static_cast<double>(paras.pieces));
      EXPECT_DOUBLE_EQ(m.dup_para_char_frac,
                       static_cast<double>(paras.dup_chars) / chars);
      EXPECT_DOUBLE_EQ(m.dup_line_frac, static_cast<double>(lines.dup_pieces) /
                                            static_cast<double>(lines.pieces));
      EXPECT_DOUBLE_EQ(m.dup_line_char_frac,
                       static_cast<double>(lines.dup_chars) / chars);
      ExpectNgramsMatchTheSlowReference(text);
    }
  }
}

// Two Brown and two UDHR documents. The paragraph and line values were worked
// out once with Python 3.11 from datatrove's definitions, on the decoded
// "text" of each line of the sample shards:
//   paragraphs = re.split(r"\n{2,}", text.strip())
//   lines = re.split("\n+", text)
// and find_duplicates() from gopher_repetition_filter.py on each. The n-gram
// values are checked against the slow reference above.
TEST(GopherRepetitionTest, MeasuresRealDocumentsAsDatatroveDefinesThem) {
  struct Expected {
    const char* shard;
    size_t index;
    int64_t chars;  // len(text)
    int64_t paras, dup_paras, dup_para_chars;
    int64_t lines, dup_lines, dup_line_chars;
  };
  const Expected expected[] = {
      {"brown.jsonl", 1, 12308, 74, 4, 52, 74, 4, 52},     // brown-ca02
      {"brown.jsonl", 96, 12824, 79, 9, 18, 79, 9, 18},    // brown-cd09
      {"udhr.jsonl.gz", 43, 5049, 1, 0, 0, 81, 18, 18},    // udhr-065
      {"udhr.jsonl.gz", 323, 12411, 1, 0, 0, 90, 1, 164},  // udhr-mnw
  };
  for (const Expected& e : expected) {
    SCOPED_TRACE(e.index);
    const std::string& text = testing::SampleTexts(e.shard).at(e.index);
    ASSERT_EQ(python_text::Length(text), e.chars);
    const Document doc = Filter({}, text);
    const auto per = [](int64_t part, int64_t whole) {
      return static_cast<double>(part) / static_cast<double>(whole);
    };
    EXPECT_DOUBLE_EQ(Real(doc, "gopher_rep.dup_para_frac"),
                     per(e.dup_paras, e.paras));
    EXPECT_DOUBLE_EQ(Real(doc, "gopher_rep.dup_para_char_frac"),
                     per(e.dup_para_chars, e.chars));
    EXPECT_DOUBLE_EQ(Real(doc, "gopher_rep.dup_line_frac"),
                     per(e.dup_lines, e.lines));
    EXPECT_DOUBLE_EQ(Real(doc, "gopher_rep.dup_line_char_frac"),
                     per(e.dup_line_chars, e.chars));
    ExpectNgramsMatchTheSlowReference(text);
  }
}

}  // namespace
}  // namespace needle
