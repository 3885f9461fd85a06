#include "filters/c4.h"

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/test_util.h"

namespace needle {
namespace {

Document Doc(std::string_view text) {
  Document doc;
  doc.text = text;
  return doc;
}

// The document after the stage has processed it.
Document Processed(const C4Quality::Options& options, std::string_view text) {
  std::vector<Document> docs = {Doc(text)};
  C4Quality(options).Process(docs);
  return docs[0];
}

int64_t IntSignal(const Document& doc, std::string_view key) {
  const int64_t* value = doc.FindSignal<int64_t>(key);
  if (value == nullptr)
    throw std::runtime_error("no signal " + std::string(key));
  return *value;
}

// The line rules alone: no document needs a number of sentences.
C4Quality::Options LineRulesOnly() {
  C4Quality::Options options;
  options.min_num_sentences = -1;
  return options;
}

TEST(C4QualityTest, RemovesLinesWithoutTerminalPunctuation) {
  const Document doc = Processed(LineRulesOnly(),
                                 "The cat sat down.\n"
                                 "No full stop here\n"
                                 "Is this a question?\n"
                                 "What a day it is!\n"
                                 "He said \"stop it now\"\n"
                                 "She said 'go away now'\n"
                                 "The end is near...\n"
                                 "A unicode ellipsis here\u2026\n");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc.text,
            "The cat sat down.\nIs this a question?\nWhat a day it is!\n"
            "He said \"stop it now\"\nShe said 'go away now'");
  EXPECT_EQ(IntSignal(doc, "c4.lines"), 8);
  EXPECT_EQ(IntSignal(doc, "c4.lines_no_terminal_punct"), 3);
  EXPECT_EQ(IntSignal(doc, "c4.lines_removed"), 3);
  EXPECT_EQ(IntSignal(doc, "c4.lines_kept"), 5);
}

TEST(C4QualityTest, KeepsLinesWithoutPunctuationWhenThatRuleIsOff) {
  C4Quality::Options options = LineRulesOnly();
  options.filter_no_terminal_punct = false;
  const Document doc =
      Processed(options, "No full stop here\nThe cat sat down.");
  EXPECT_EQ(doc.text, "No full stop here\nThe cat sat down.");
  EXPECT_FALSE(doc.text_rewritten());
}

TEST(C4QualityTest, RemovesLinesWithFewerThanMinWordsPerLine) {
  const Document doc = Processed(
      LineRulesOnly(), "Two words.\nNow three words.\n\u00a0Two\u3000words!\n");
  EXPECT_EQ(doc.text, "Now three words.");
  EXPECT_EQ(IntSignal(doc, "c4.lines_too_few_words"), 2);

  C4Quality::Options options = LineRulesOnly();
  options.min_words_per_line = 2;
  EXPECT_EQ(Processed(options, "Two words.\nOne.").text, "Two words.");
}

TEST(C4QualityTest, CountsWordsBeforeCitationsAreCut) {
  // "quite[1]." is one word: three words here, as datatrove counts them.
  EXPECT_EQ(Processed(LineRulesOnly(), "It was quite[1].").text,
            "It was quite.");
  // Two words before the cut: the line goes.
  EXPECT_EQ(
      IntSignal(Processed(LineRulesOnly(), "Quite so.[1]\nThe cat sat down."),
                "c4.lines_too_few_words"),
      1);
}

TEST(C4QualityTest, CutsWikipediaCitationsBeforeThePunctuationRule) {
  const Document doc = Processed(LineRulesOnly(),
                                 "It rained all day.[1]\n"
                                 "It was cold [citation needed].\n"
                                 "Notes follow here.[edit]\n"
                                 "A [b] list of [12][3] refs.\n"
                                 "Cited in Arabic digits.[\u0663\u0664]\n"
                                 "Trailing citation after space [2]\n"
                                 "Not a citation [1a].\n");
  EXPECT_EQ(doc.text,
            "It rained all day.\n"
            "It was cold .\n"
            "Notes follow here.\n"
            "A [b] list of  refs.\n"
            "Cited in Arabic digits.\n"
            "Not a citation [1a].");
  // "Trailing citation after space " ends in a space once cut.
  EXPECT_EQ(IntSignal(doc, "c4.lines_no_terminal_punct"), 1);

  C4Quality::Options options = LineRulesOnly();
  options.remove_citations = false;
  EXPECT_EQ(Processed(options, "It rained all day.[1]\nThe cat sat down.").text,
            "The cat sat down.");
}

TEST(C4QualityTest, RemovesLinesWithAWordLongerThanMaxWordLength) {
  // Lengths are in code points: "é" is two bytes.
  std::string at_limit;
  for (int i = 0; i < 1000; ++i) at_limit += "\u00e9";
  const std::string over_limit = at_limit + "e";
  const std::string text =
      "A " + at_limit + " word.\nA " + over_limit + " word.\nThe cat sat down.";
  const Document doc = Processed(LineRulesOnly(), text);
  EXPECT_EQ(doc.text, "A " + at_limit + " word.\nThe cat sat down.");
  EXPECT_EQ(IntSignal(doc, "c4.lines_too_long_word"), 1);

  C4Quality::Options options = LineRulesOnly();
  options.max_word_length = -1;
  EXPECT_FALSE(Processed(options, text).text_rewritten());
}

TEST(C4QualityTest, RemovesJavascriptLinesInAnyCase) {
  const std::string text =
      "Please enable JavaScript to view it.\nThe cat sat down.";
  const Document doc = Processed(LineRulesOnly(), text);
  EXPECT_EQ(doc.text, "The cat sat down.");
  EXPECT_EQ(IntSignal(doc, "c4.lines_javascript"), 1);

  C4Quality::Options options = LineRulesOnly();
  options.filter_javascript = false;
  EXPECT_EQ(Processed(options, text).text, text);
}

TEST(C4QualityTest, RemovesPolicyLinesAsSubstrings) {
  const Document doc = Processed(LineRulesOnly(),
                                 "Read our Privacy Policy today.\n"
                                 "This site USES COOKIES for you.\n"
                                 "See the terms of use here.\n"
                                 "Our cookie policy is short.\n"
                                 "We explain the use of cookies.\n"
                                 // Substrings, as datatrove matches: "because
                                 // cookies" holds "use cookies".
                                 "I eat them because cookies are good.\n"
                                 // KELVIN SIGN lowercases to k in Python.
                                 "This site uses coo\u212aies too.\n"
                                 "We love milk and biscuits.\n");
  EXPECT_EQ(doc.text, "We love milk and biscuits.");
  EXPECT_EQ(IntSignal(doc, "c4.lines_policy"), 7);

  C4Quality::Options options = LineRulesOnly();
  options.filter_policy = false;
  EXPECT_EQ(IntSignal(Processed(options, "Read our privacy policy now."),
                      "c4.lines_kept"),
            1);
}

// The phrase rules the obvious way: str.lower() of the line as far as
// ASCII goes (A-Z, and KELVIN SIGN to 'k'), then a substring search.
std::string SlowLower(std::string_view line) {
  std::string lowered;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line.substr(i, 3) == "\u212a") {
      lowered += 'k';
      i += 2;
    } else {
      const char c = line[i];
      lowered += c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    }
  }
  return lowered;
}

TEST(C4QualityTest, PhrasesMatchALowercasedSearchOnRandomLines) {
  // Lines that pass the rules before the phrase rules (at least three
  // words, a final period), made of phrases and near misses in mixed case,
  // pieces joined with and without spaces so that phrases start at odd and
  // even offsets and at a line's very start.
  const char* pieces[] = {"lorem ipsum",
                          "LOREM",
                          "Ipsum",
                          "lorem",
                          "ipsum",
                          "Java",
                          "Script",
                          "javascript",
                          "JavaScript",
                          "privacy policy",
                          "Privacy",
                          "Policy",
                          "cookie policy",
                          "uses cookies",
                          "use of cookies",
                          "use cookies",
                          "USE COO\u212aIES",
                          "coo\u212aie policy",
                          "terms of use",
                          "TERMS",
                          "of",
                          "use",
                          "x",
                          "\u00e9",
                          "\u0130",
                          "ter",
                          "ms"};
  std::mt19937 random(5);
  for (int round = 0; round < 2000; ++round) {
    std::string line = "one two three";
    const int count = static_cast<int>(random() % 8);
    for (int i = 0; i < count; ++i) {
      const bool front = random() % 4 == 0;
      std::string piece = pieces[random() % std::size(pieces)];
      if (random() % 3 != 0) piece.insert(front ? piece.size() : 0, " ");
      line.insert(front ? 0 : line.size(), piece);
    }
    line += ".";
    SCOPED_TRACE(line);
    const std::string lowered = SlowLower(line);
    const auto has = [&](std::string_view phrase) {
      return lowered.find(phrase) != std::string::npos;
    };
    const bool javascript = has("javascript");
    const bool policy = has("terms of use") || has("privacy policy") ||
                        has("cookie policy") || has("uses cookies") ||
                        has("use of cookies") || has("use cookies");
    const Document doc = Processed(LineRulesOnly(), line);
    EXPECT_EQ(IntSignal(doc, "c4.lorem_ipsum_lines"), has("lorem ipsum"));
    EXPECT_EQ(IntSignal(doc, "c4.lines_javascript"), javascript);
    EXPECT_EQ(IntSignal(doc, "c4.lines_policy"), !javascript && policy);
  }
}

TEST(C4QualityTest, RejectsLoremIpsumInALineThatReachesTheRule) {
  const Document doc = Processed(
      LineRulesOnly(), "The cat sat down.\nLorem IPSUM dolor sit amet.");
  EXPECT_EQ(doc.reason, Reason::kC4LoremIpsum);
  EXPECT_EQ(doc.reject_stage, "c4");
  EXPECT_FALSE(doc.text_rewritten());  // rejected documents keep their text
  // Without terminal punctuation the line goes before the rule sees it.
  EXPECT_TRUE(
      Processed(LineRulesOnly(), "The cat sat down.\nLorem ipsum dolor sit")
          .ok());

  C4Quality::Options options = LineRulesOnly();
  options.filter_lorem_ipsum = false;
  const Document kept = Processed(options, "Lorem ipsum dolor sit amet.");
  EXPECT_TRUE(kept.ok());
  EXPECT_EQ(IntSignal(kept, "c4.lorem_ipsum_lines"), 1);
}

TEST(C4QualityTest, RejectsAnOpeningCurlyBracketInAKeptLine) {
  EXPECT_EQ(Processed(LineRulesOnly(), "The set {a, b} is here.").reason,
            Reason::kC4CurlyBracket);
  EXPECT_TRUE(Processed(LineRulesOnly(), "Only a closing } is here.").ok());
  // The JavaScript line is removed before the bracket rule sees it.
  const Document doc = Processed(LineRulesOnly(),
                                 "Enable javascript for {this} page.\n"
                                 "A {brace without punctuation\n"
                                 "The cat sat down.");
  EXPECT_TRUE(doc.ok());
  EXPECT_EQ(IntSignal(doc, "c4.curly_bracket_lines"), 0);

  C4Quality::Options options = LineRulesOnly();
  options.filter_curly_bracket = false;
  EXPECT_TRUE(Processed(options, "The set {a, b} is here.").ok());
}

TEST(C4QualityTest, RejectsFewerKeptSentencesThanMinNumSentences) {
  // One sentence a line, so that any sentence splitter agrees.
  const std::string four =
      "The cat sat on the mat.\nThe dog ran to the park.\n"
      "The bird flew over the house.\nThe fish swam in the pond.\n";
  const std::string five = four + "The cow ate the green grass.\n";
  const C4Quality::Options defaults;
  const Document rejected = Processed(defaults, four);
  EXPECT_EQ(rejected.reason, Reason::kC4TooFewSentences);
  EXPECT_EQ(IntSignal(rejected, "c4.sentences"), 4);
  const Document kept = Processed(defaults, five);
  EXPECT_TRUE(kept.ok());
  EXPECT_EQ(IntSignal(kept, "c4.sentences"), 5);
  // Removed lines do not count.
  EXPECT_EQ(Processed(defaults, four + "The cow ate the green grass\n").reason,
            Reason::kC4TooFewSentences);
}

TEST(C4QualityTest, CountsEverySentenceOfAKeptLine) {
  C4Quality::Options options = LineRulesOnly();
  const Document doc =
      Processed(options, "The cat sat on the mat. The dog ran to the park.");
  EXPECT_EQ(IntSignal(doc, "c4.sentences"), 2);
}

TEST(C4QualityTest, JudgesSentencesWithoutSplitParagraph) {
  C4Quality::Options options = LineRulesOnly();
  options.split_paragraph = false;
  const Document doc =
      Processed(options,
                "The cat sat on the mat.\nThe dog ran to the park.\n"
                "It was sunny");
  // Kept sentences are joined by spaces.
  EXPECT_EQ(doc.text, "The cat sat on the mat. The dog ran to the park.");
  EXPECT_EQ(IntSignal(doc, "c4.sentences"), 2);
}

TEST(C4QualityTest, RemovesLinesToExactlyTheKeptText) {
  const std::string text =
      "  The first line is here.  \r\n"
      "\r\n"
      "Home | About | Contact\n"
      "\u00a0The second line is here.\u2028The third line is here.\n"
      "\t\n";
  const Document doc = Processed(LineRulesOnly(), text);
  ASSERT_TRUE(doc.text_rewritten());
  EXPECT_EQ(doc.text,
            "The first line is here.\nThe second line is here.\n"
            "The third line is here.");
  EXPECT_EQ(IntSignal(doc, "c4.lines"), 6);
  EXPECT_EQ(IntSignal(doc, "c4.lines_removed"), 3);
  EXPECT_EQ(IntSignal(doc, "c4.bytes_kept"), 72);

  C4Quality::Options options = LineRulesOnly();
  options.remove_lines = false;
  const Document measured = Processed(options, text);
  EXPECT_FALSE(measured.text_rewritten());
  EXPECT_EQ(measured.text, text);
  EXPECT_EQ(IntSignal(measured, "c4.lines_removed"), 3);
}

TEST(C4QualityTest, LeavesACleanTextAsItIs) {
  const Document doc =
      Processed(LineRulesOnly(), "The cat sat down.\nThe dog ran off.");
  EXPECT_FALSE(doc.text_rewritten());
  EXPECT_EQ(IntSignal(doc, "c4.lines_removed"), 0);
}

TEST(C4QualityTest, RejectsWhenNoLineIsLeft) {
  C4Quality::Options options;
  options.min_num_sentences = 0;
  const Document doc = Processed(options, "no punctuation here\nnor here");
  EXPECT_EQ(doc.reason, Reason::kC4NoLinesLeft);
  EXPECT_EQ(IntSignal(doc, "c4.bytes_kept"), 0);
  // With the default, too few sentences comes first.
  EXPECT_EQ(Processed(C4Quality::Options(), "no punctuation here").reason,
            Reason::kC4TooFewSentences);
}

TEST(C4QualityTest, RejectsForTheFirstRuleInDatatrovesOrder) {
  // Curly bracket before lorem ipsum in the text; lorem ipsum is the first
  // rule.
  const Document both = Processed(
      C4Quality::Options(), "The set {a} is here.\nLorem ipsum dolor sit.");
  EXPECT_EQ(both.reason, Reason::kC4LoremIpsum);
  // Every signal is there all the same.
  EXPECT_EQ(IntSignal(both, "c4.curly_bracket_lines"), 1);
  EXPECT_EQ(IntSignal(both, "c4.lorem_ipsum_lines"), 1);
  EXPECT_EQ(IntSignal(both, "c4.sentences"), 2);
  EXPECT_EQ(Processed(C4Quality::Options(), "The set {a} is here.").reason,
            Reason::kC4CurlyBracket);
}

TEST(C4QualityTest, SkipsListedLanguagesUnmeasured) {
  std::vector<Document> docs = {Doc("no punctuation"), Doc("no punctuation")};
  docs[0].signals.push_back({"lang", std::string("zh")});
  docs[1].signals.push_back({"lang", std::string("en")});
  C4Quality(C4Quality::Options()).Process(docs);
  EXPECT_TRUE(docs[0].ok());
  EXPECT_EQ(docs[0].signals.size(), 1u);
  EXPECT_EQ(docs[1].reason, Reason::kC4TooFewSentences);
}

TEST(C4QualityTest, LeavesRejectedDocumentsAlone) {
  std::vector<Document> docs = {Doc("no punctuation")};
  docs[0].reason = Reason::kTooShort;
  C4Quality(C4Quality::Options()).Process(docs);
  EXPECT_EQ(docs[0].reason, Reason::kTooShort);
  EXPECT_TRUE(docs[0].signals.empty());
}

C4Quality::Options WithBadWords() {
  C4Quality::Options options = LineRulesOnly();
  options.bad_words_file = testing::DataPath("filters/c4_bad_words.txt");
  return options;
}

TEST(C4QualityTest, RejectsBadWordsBetweenNonWordCharacters) {
  const C4Quality::Options options = WithBadWords();
  for (const std::string_view text : {
           "She said frack loudly.",
           "Frack is what she said.",           // at the start, any case
           "What she said was FRACK.",          // before the end's punctuation
           "The cat sat down.\nfrack it all.",  // after a newline
           "She said (frack) quietly.",
           "She said gosh darn it.",        // a phrase; listed in capitals
           "She said zounds again.",        // listed with spaces around
           "He writes c++ all day.",        // regex characters are literal
           "Sie sagte \u00c4RGER laut.",    // Ä lowercases to ä
           "She said frack\u0301 loudly.",  // a combining mark is \W
       }) {
    const Document doc = Processed(options, text);
    EXPECT_EQ(doc.reason, Reason::kC4BadWords) << text;
    EXPECT_EQ(IntSignal(doc, "c4.bad_words"), 1) << text;
  }
}

TEST(C4QualityTest, KeepsBadWordsInsideLongerWords) {
  const C4Quality::Options options = WithBadWords();
  for (const std::string_view text : {
           "The fracking debate went on.",  // a letter after
           "The snafrack debate went on.",  // a letter before
           "The frack_it debate went on.",  // '_' is a word character
           "The frack2 debate went on.",    // so is a digit
           "The frack\u00e9 debate went on.",
           "She said gosh  darn it.",   // two spaces: not the phrase
           "It was sm all along.",      // datatrove's allow-list
           "The cat sat down.\nfrack",  // only in a removed line
       }) {
    const Document doc = Processed(options, text);
    EXPECT_TRUE(doc.ok()) << text;
    EXPECT_EQ(IntSignal(doc, "c4.bad_words"), 0) << text;
  }
}

TEST(C4QualityTest, RecordsNoBadWordsSignalWithoutAList) {
  EXPECT_EQ(Processed(LineRulesOnly(), "She said frack loudly.")
                .FindSignal<int64_t>("c4.bad_words"),
            nullptr);
}

TEST(C4QualityTest, ThrowsNamingAnUnreadableOrEmptyBadWordsFile) {
  C4Quality::Options options;
  options.bad_words_file = "/nonexistent/bad_words.txt";
  try {
    C4Quality stage(options);
    FAIL() << "no exception";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(),
                 "cannot read bad_words_file /nonexistent/bad_words.txt");
  }
  const std::string blank = testing::MakeTempDir() + "/blank.txt";
  testing::WriteFile(blank, "\n  \n");
  options.bad_words_file = blank;
  EXPECT_THROW(C4Quality stage(options), std::runtime_error);
}

TEST(C4QualityTest, SurvivesEmptyBlankHugeAndCjkTexts) {
  const C4Quality::Options defaults;
  for (const std::string_view text : {"", " ", "\n\n\t\r\n", "\u3000"}) {
    const Document doc = Processed(defaults, text);
    EXPECT_EQ(doc.reason, Reason::kC4TooFewSentences);
    EXPECT_EQ(IntSignal(doc, "c4.lines_kept"), 0);
  }
  EXPECT_EQ(IntSignal(Processed(defaults, ""), "c4.lines"), 0);

  // A 1 MB line of short words is kept; a 1 MB word is too long.
  std::string words;
  while (words.size() < (1 << 20)) words += "word ";
  words += "end.";
  const Document many = Processed(LineRulesOnly(), words);
  EXPECT_TRUE(many.ok());
  EXPECT_FALSE(many.text_rewritten());
  const Document one =
      Processed(LineRulesOnly(), std::string(1 << 20, 'x') + ".");
  EXPECT_EQ(IntSignal(one, "c4.lines_too_long_word"), 1);

  // CJK without a lang signal is measured: no spaces, so one word a line.
  const Document cjk =
      Processed(defaults, "人人生而自由，在尊严和权利上一律平等。");
  EXPECT_EQ(IntSignal(cjk, "c4.lines_no_terminal_punct"), 1);
}

// Expected values: datatrove's C4QualityFilter.filter (c4_filters.py at
// a649de79) run in python3 on the same text with min_num_sentences=-1 and
// its stat_update counts read back ("line-total", "line-kept",
// "line-filter-no_terminal_punc"); bytes_kept is len(doc.text.encode())
// afterwards. Sentence counts need NLTK and are left out.
TEST(C4QualityTest, MatchesDatatroveOnRealDocuments) {
  struct Case {
    std::string shard, id;
    int64_t lines, kept, no_punct, few_words, bytes_kept;
  };
  const Case cases[] = {
      {"brown.jsonl", "brown-ca01", 147, 68, 79, 0, 12081},
      {"brown.jsonl", "brown-ca02", 147, 65, 82, 0, 12057},
      {"udhr.jsonl.gz", "udhr-eng", 92, 51, 41, 0, 8841},
      {"udhr.jsonl.gz", "udhr-hin", 92, 0, 62, 30, 0},
      {"udhr.jsonl.gz", "udhr-rus", 91, 51, 40, 0, 18346},
  };
  for (const Case& c : cases) {
    const std::string text = testing::SampleText(c.shard, c.id);
    const Document doc = Processed(LineRulesOnly(), text);
    EXPECT_EQ(IntSignal(doc, "c4.lines"), c.lines) << c.id;
    EXPECT_EQ(IntSignal(doc, "c4.lines_kept"), c.kept) << c.id;
    EXPECT_EQ(IntSignal(doc, "c4.lines_no_terminal_punct"), c.no_punct) << c.id;
    EXPECT_EQ(IntSignal(doc, "c4.lines_too_few_words"), c.few_words) << c.id;
    EXPECT_EQ(IntSignal(doc, "c4.bytes_kept"), c.bytes_kept) << c.id;
  }
}

}  // namespace
}  // namespace needle
