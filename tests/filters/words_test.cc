#include "filters/words.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "filters/punkt.h"
#include "filters/python_chars.h"
#include "tests/test_util.h"

namespace needle {
namespace {

using Strings = std::vector<std::string>;

Strings Words(std::string_view text) {
  std::vector<std::string_view> views;
  words::SplitWords(text, &views);
  return Strings(views.begin(), views.end());
}

Strings Sentences(std::string_view text) {
  std::vector<std::string_view> views;
  words::SplitSentences(text, &views);
  return Strings(views.begin(), views.end());
}

// --- Words: the expectations are NLTK's documented examples, or derived by
// hand from the rule lists in nltk/tokenize/destructive.py and punkt.py.

TEST(SplitWordsTest, MatchesWordTokenizeDocExample) {
  // word_tokenize's docstring example; untrained Punkt breaks at the same
  // places as the trained model here.
  EXPECT_EQ(Words("Good muffins cost $3.88\nin New York.  Please buy me\ntwo "
                  "of them.\nThanks."),
            (Strings{"Good", "muffins", "cost", "$", "3.88", "in", "New",
                     "York", ".", "Please", "buy", "me", "two", "of", "them",
                     ".", "Thanks", "."}));
}

TEST(SplitWordsTest, SplitsClitics) {
  // TreebankWordTokenizer's doctests.
  EXPECT_EQ(Words("They'll save and invest more."),
            (Strings{"They", "'ll", "save", "and", "invest", "more", "."}));
  EXPECT_EQ(Words("hi, my name can't hello,"),
            (Strings{"hi", ",", "my", "name", "ca", "n't", "hello", ","}));
  EXPECT_EQ(
      Words("I'm sure she's here; we'd've"),
      (Strings{"I", "'m", "sure", "she", "'s", "here", ";", "we'd", "'ve"}));
}

TEST(SplitWordsTest, ReplacesDoubleQuotes) {
  // ^" and " after a space open (``); every other " closes ('').
  EXPECT_EQ(Words("\"Hello,\" she said (\"no\")."),
            (Strings{"``", "Hello", ",", "''", "she", "said", "(", "``", "no",
                     "''", ")", "."}));
  // Curly and angle quotes are padded, never replaced.
  EXPECT_EQ(Words("«Oui» “yes”"), (Strings{"«", "Oui", "»", "“", "yes", "”"}));
}

TEST(SplitWordsTest, SplitsOnlyTheFinalPeriodOfASentence) {
  // One sentence for Punkt (initials), so only the last period goes.
  EXPECT_EQ(Words("J. Smith left."), (Strings{"J.", "Smith", "left", "."}));
  EXPECT_EQ(Words("He left.)"), (Strings{"He", "left", ".", ")"}));
  // A '"' after a space has become `` before the final-period rule runs,
  // and `` is not a closer it skips, so the period stays on the word.
  EXPECT_EQ(Words("left. \""), (Strings{"left.", "``"}));
}

TEST(SplitWordsTest, ContractionRulesNeedASpaceAfter) {
  // n't splits only before a space (or the end): a newline is not one.
  EXPECT_EQ(Words("don't\nstop"), (Strings{"don't", "stop"}));
  EXPECT_EQ(Words("don't stop"), (Strings{"do", "n't", "stop"}));
}

TEST(SplitWordsTest, SplitsMacIntyreContractions) {
  EXPECT_EQ(Words("cannot gonna Gimme 'tis d'ye wanna"),
            (Strings{"can", "not", "gon", "na", "Gim", "me", "'t", "is", "d",
                     "'ye", "wan", "na"}));
  // (?=\s) after wanna: not before a hyphen.
  EXPECT_EQ(Words("wanna-be"), (Strings{"wanna-be"}));
}

TEST(SplitWordsTest, RulesDoNotSeeTheirOwnSubstitutions) {
  // Each rule is one re.sub: in "'tis'tis" the second 'tis lacks the space
  // before it when the pass starts, and in "wannan't'll" n't is followed by
  // a quote, not a space, when the contraction pass starts.
  EXPECT_EQ(Words("'tis'tis"), (Strings{"'t", "is", "'tis"}));
  EXPECT_EQ(Words("wannan't'll"), (Strings{"wannan't", "'ll"}));
  // ",,a": the first match consumes the second comma.
  EXPECT_EQ(Words(",,a"), (Strings{",", ",a"}));
}

TEST(SplitWordsTest, PadsPunctuation) {
  // "--" is padded pair by pair, so the third hyphen of "---c" stays on c.
  EXPECT_EQ(
      Words("a--b---c ... x;y@z (q) [r] {s} <t> *u 3,000 5:30 a,b"),
      (Strings{"a", "--", "b", "--", "-c", "...",   "x",    ";", "y", "@",
               "z", "(",  "q", ")",  "[",  "r",     "]",    "{", "s", "}",
               "<", "t",  ">", "*",  "u",  "3,000", "5:30", "a", ",", "b"}));
}

TEST(SplitWordsTest, NeverCrashesOnOddText) {
  EXPECT_EQ(Words(""), Strings{});
  EXPECT_EQ(Words(" \t\r\n\n \u00a0\u3000"), Strings{});
  EXPECT_EQ(Words("\n\na\n\n"), (Strings{"a"}));
  // No rule splits CJK: the fullwidth comma and the ideographic full stop
  // are not in the Treebank lists.
  EXPECT_EQ(Words("人人生而自由，在尊严和权利上一律平等。"),
            (Strings{"人人生而自由，在尊严和权利上一律平等。"}));
  EXPECT_EQ(Words("😀👍🏽 ok"), (Strings{"😀👍🏽", "ok"}));
  // Very long lines, with and without rule triggers, in linear time.
  for (const std::string& piece :
       {std::string("a"), std::string("a.)"), std::string(". "),
        std::string("'s\""), std::string("Dr. "), std::string("?!")}) {
    std::string text;
    while (text.size() < (1 << 20)) text += piece;
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::string_view> words;
    words::SplitWords(text, &words);
    std::vector<std::string_view> sentences;
    words::SplitSentences(text, &sentences);
    EXPECT_FALSE(words.empty()) << piece;
    EXPECT_FALSE(sentences.empty()) << piece;
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5))
        << piece;
  }
}

TEST(SplitWordsTest, AppendsAndPointsIntoTheText) {
  const std::string text = "One \"two\". Three.";
  std::vector<std::string_view> out = {"kept"};
  words::SplitWords(text, &out);
  ASSERT_EQ(out.size(), 8u);
  EXPECT_EQ(out[0], "kept");
  for (std::string_view token : out) {
    const bool inside =
        token.data() >= text.data() &&
        token.data() + token.size() <= text.data() + text.size();
    EXPECT_TRUE(inside || token == "``" || token == "''" || token == "kept")
        << token;
  }
}

// --- Sentences.

TEST(SplitSentencesTest, BreaksAfterSentenceEnds) {
  EXPECT_EQ(Sentences("  Mr. Smith went home. He slept!  Did he? Yes.\n"),
            (Strings{"Mr. Smith went home.", "He slept!", "Did he?", "Yes."}));
  // Punkt's docstring: "acting!!!" is decided at its last "!".
  EXPECT_EQ(Sentences("Very bad acting!!! I promise."),
            (Strings{"Very bad acting!!!", "I promise."}));
}

TEST(SplitSentencesTest, KeepsAbbreviationsEllipsesInitialsAndNumbers) {
  EXPECT_EQ(Sentences("See e.g. the list, i.e. this one, vs. that, etc. OK."),
            (Strings{"See e.g. the list, i.e. this one, vs. that, etc. OK."}));
  EXPECT_EQ(Sentences("Wait... what. J. R. Tolkien. In 1990. the end."),
            (Strings{"Wait... what.", "J. R. Tolkien.", "In 1990. the end."}));
  // A number before an upper-case word, or an initial before a digit,
  // breaks.
  EXPECT_EQ(Sentences("In 1990. The end. A. 5 items."),
            (Strings{"In 1990.", "The end.", "A.", "5 items."}));
}

TEST(SplitSentencesTest, RealignsClosingPunctuation) {
  // Punkt's docstring: "(Sent1.) Sent2." keeps ")" with the first.
  EXPECT_EQ(Sentences("(Sent1.) Sent2. \"Sent3.\" Sent4."),
            (Strings{"(Sent1.)", "Sent2.", "\"Sent3.\"", "Sent4."}));
}

TEST(SplitSentencesTest, NeverCrashesOnOddText) {
  EXPECT_EQ(Sentences(""), Strings{});
  EXPECT_EQ(Sentences(" \n\t\u00a0 "), Strings{});
  EXPECT_EQ(Sentences("."), (Strings{"."}));
  // The "?" is decided on the context "?!" (the word before it is empty),
  // where a token follows the break.
  EXPECT_EQ(Sentences("?! ."), (Strings{"?", "!", "."}));
  EXPECT_EQ(Sentences("人人生而自由。他们赋有理性。"),
            (Strings{"人人生而自由。他们赋有理性。"}));
}

// --- Punctuation and helpers.

TEST(PunctuationTest, FollowsDatatroveSets) {
  for (char32_t c : {U'.', U'!', U'"', U'_', U'\r', U'\x7f', U'—', U'…', U'。',
                     U'１', U'»', U'\u0085'}) {
    EXPECT_TRUE(words::IsPunctuation(c)) << static_cast<uint32_t>(c);
  }
  for (char32_t c :
       {U'a', U'Z', U'0', U' ', U'\t', U'\n', U'é', U'中', U'\u00a0'}) {
    EXPECT_FALSE(words::IsPunctuation(c)) << static_cast<uint32_t>(c);
  }
  // Terminal punctuation of other scripts counts as punctuation too.
  EXPECT_TRUE(words::IsPunctuation(U'।'));
  for (char32_t c : {U'.', U'!', U'?', U'。', U'।', U'؟', U'‼'}) {
    EXPECT_TRUE(words::IsTerminalPunctuation(c)) << static_cast<uint32_t>(c);
  }
  for (char32_t c : {U',', U';', U'"', U'a', U'…'}) {
    EXPECT_FALSE(words::IsTerminalPunctuation(c)) << static_cast<uint32_t>(c);
  }
}

TEST(PunctuationTest, AllPunctuationNeedsEveryCodePoint) {
  EXPECT_TRUE(words::IsAllPunctuation("..."));
  EXPECT_TRUE(words::IsAllPunctuation("—«»!"));
  EXPECT_FALSE(words::IsAllPunctuation(""));
  EXPECT_FALSE(words::IsAllPunctuation("a."));
  EXPECT_FALSE(words::IsAllPunctuation(". ."));
}

TEST(CodePointTest, FirstAndLast) {
  EXPECT_EQ(words::FirstCodePoint("émoji 😀"), U'é');
  EXPECT_EQ(words::LastCodePoint("émoji 😀"), U'😀');
  EXPECT_EQ(words::FirstCodePoint("a"), U'a');
  EXPECT_EQ(words::LastCodePoint("a"), U'a');
  EXPECT_EQ(words::FirstCodePoint(""), 0u);
  EXPECT_EQ(words::LastCodePoint(""), 0u);
}

Document DocWithLang(const char* lang) {
  Document doc;
  if (lang != nullptr) doc.signals.push_back({"lang", std::string(lang)});
  return doc;
}

TEST(SkipsLanguageTest, ReadsTheLangSignal) {
  const std::vector<std::string> skipped = {"zh", "ja", "th"};
  EXPECT_FALSE(words::SkipsLanguage(DocWithLang(nullptr), skipped));
  EXPECT_FALSE(words::SkipsLanguage(DocWithLang("en"), skipped));
  EXPECT_TRUE(words::SkipsLanguage(DocWithLang("ja"), skipped));
  EXPECT_FALSE(words::SkipsLanguage(DocWithLang("ja"), {}));
  // The last "lang" signal wins.
  Document relabelled;
  relabelled.signals = {{"lang", std::string("en")},
                        {"lang", std::string("th")}};
  EXPECT_TRUE(words::SkipsLanguage(relabelled, skipped));
}

Strings Copy(const std::vector<std::string_view>& views) {
  return Strings(views.begin(), views.end());
}

TEST(WordsOfTest, SplitsOnceAndCachesOnTheDocument) {
  const std::string text = "Don't stop. It's fine.";
  Document doc;
  doc.text = text;
  const std::vector<std::string_view>& first = words::WordsOf(doc);
  EXPECT_EQ(Copy(first), Words(text));
  EXPECT_EQ(&first, &doc.words);
  // A second call returns the cache: marked entries survive it.
  doc.words.push_back("marker");
  EXPECT_EQ(words::WordsOf(doc).back(), "marker");
}

TEST(WordsOfTest, RewriteTextDropsTheCache) {
  const std::string text = "One two three.";
  Document doc;
  doc.text = text;
  ASSERT_EQ(words::WordsOf(doc).size(), 4u);
  doc.RewriteText("Four five.");
  EXPECT_TRUE(doc.words.empty());
  EXPECT_EQ(Copy(words::WordsOf(doc)), (Strings{"Four", "five", "."}));
}

TEST(WordsOfTest, TextSetBackOrElsewhereIsSplitAgain) {
  // The stage runner's undo assigns `text` directly.
  const std::string text = "One two three.";
  const std::string other = "Six seven.";
  const std::string prefix = "One two";  // same start, shorter
  Document doc;
  doc.text = text;
  ASSERT_EQ(words::WordsOf(doc).size(), 4u);
  doc.text = other;
  EXPECT_EQ(Copy(words::WordsOf(doc)), (Strings{"Six", "seven", "."}));
  doc.text = std::string_view(text).substr(0, prefix.size());
  EXPECT_EQ(Copy(words::WordsOf(doc)), (Strings{"One", "two"}));
  doc.text = "";
  EXPECT_TRUE(words::WordsOf(doc).empty());
}

TEST(LinesOfTest, SplitsOnceAndCachesUntilTheTextChanges) {
  const std::string text = "One\r\ntwo\n\nthree";
  Document doc;
  doc.text = text;
  const std::vector<std::string_view>& first = words::LinesOf(doc);
  EXPECT_EQ(Strings(first.begin(), first.end()),
            (Strings{"One", "two", "", "three"}));
  EXPECT_EQ(&first, &doc.lines);
  // A second call returns the cache: marked entries survive it.
  doc.lines.push_back("marker");
  EXPECT_EQ(words::LinesOf(doc).back(), "marker");
  doc.RewriteText("Four\nfive");
  EXPECT_TRUE(doc.lines.empty());
  EXPECT_EQ(words::LinesOf(doc).size(), 2u);
  doc.text = std::string_view(text).substr(0, 3);  // as the runner's undo
  EXPECT_EQ(Strings(words::LinesOf(doc).begin(), words::LinesOf(doc).end()),
            (Strings{"One"}));
}

// --- Against NLTK itself (python3-nltk, which scripts/setup installs).

constexpr const char* kPython = "/usr/bin/python3";

bool HaveNltk() {
  const std::string command =
      std::string(kPython) + " -c 'import nltk' >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

std::string RunCommand(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {};
  std::string output;
  char buffer[1 << 16];
  while (size_t n = std::fread(buffer, 1, sizeof(buffer), pipe)) {
    output.append(buffer, n);
  }
  EXPECT_EQ(::pclose(pipe), 0) << command;
  return output;
}

std::vector<std::string> Split(std::string_view s, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(separator, start);
    if (end == std::string_view::npos) end = s.size();
    parts.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// The "text" of every line of a JSON-lines file (any codec).
std::vector<std::string> TextsOf(const std::string& path) {
  std::vector<std::string> texts;
  simdjson::dom::parser parser;
  for (const std::string& line : testing::Lines(testing::Decompressed(path))) {
    std::string_view text;
    if (!parser.parse(line)["text"].get(text)) texts.emplace_back(text);
  }
  return texts;
}

// Our output in nltk_words.py's format.
std::string OurRecord(std::string_view text) {
  std::vector<std::string_view> tokens;
  words::SplitWords(text, &tokens);
  std::string record;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i > 0) record += '\x1f';
    record += tokens[i];
  }
  record += '\x1e';
  std::vector<std::string_view> sentences;
  words::SplitSentences(text, &sentences);
  for (size_t i = 0; i < sentences.size(); ++i) {
    const size_t begin = static_cast<size_t>(sentences[i].data() - text.data());
    if (i > 0) record += ',';
    record += std::to_string(begin) + ":" +
              std::to_string(begin + sentences[i].size());
  }
  return record;
}

struct Agreement {
  size_t documents = 0;
  size_t identical_documents = 0;
  size_t tokens = 0;            // NLTK's
  size_t identical_tokens = 0;  // equal at the same index
  std::vector<std::string> first_differences;
};

Agreement CompareWithNltk(const std::string& path) {
  std::string abbreviations;
  for (std::string_view a : words::internal::kAbbreviations) {
    if (!abbreviations.empty()) abbreviations += ',';
    abbreviations += a;
  }
  const std::string output =
      RunCommand(std::string(kPython) + " " + NEEDLE_SOURCE_DIR +
                 "/tests/filters/nltk_words.py " + abbreviations + " " + path);
  const std::vector<std::string> texts = TextsOf(path);
  std::vector<std::string> records = Split(output, '\n');
  if (!records.empty() && records.back().empty()) records.pop_back();
  Agreement agreement;
  EXPECT_EQ(records.size(), texts.size()) << path;
  for (size_t d = 0; d < std::min(records.size(), texts.size()); ++d) {
    const std::string ours = OurRecord(texts[d]);
    ++agreement.documents;
    const std::vector<std::string> theirs_tokens =
        Split(Split(records[d], '\x1e')[0], '\x1f');
    const std::vector<std::string> our_tokens =
        Split(Split(ours, '\x1e')[0], '\x1f');
    agreement.tokens += theirs_tokens.size();
    for (size_t t = 0; t < std::min(theirs_tokens.size(), our_tokens.size());
         ++t) {
      agreement.identical_tokens += theirs_tokens[t] == our_tokens[t];
    }
    if (ours == records[d]) {
      ++agreement.identical_documents;
    } else if (agreement.first_differences.size() < 5) {
      agreement.first_differences.push_back("document " + std::to_string(d) +
                                            ":\n  ours: " + ours +
                                            "\n  nltk: " + records[d]);
    }
  }
  std::printf("%s: %zu/%zu documents identical, %zu/%zu tokens\n", path.c_str(),
              agreement.identical_documents, agreement.documents,
              agreement.identical_tokens, agreement.tokens);
  return agreement;
}

void ExpectIdentical(const std::string& path) {
  const Agreement agreement = CompareWithNltk(path);
  EXPECT_GT(agreement.documents, 0u);
  EXPECT_EQ(agreement.identical_documents, agreement.documents);
  EXPECT_EQ(agreement.identical_tokens, agreement.tokens);
  for (const std::string& difference : agreement.first_differences) {
    ADD_FAILURE() << difference;
  }
}

TEST(NltkAgreementTest, HandMadeTrickyStrings) {
  if (!HaveNltk()) GTEST_SKIP() << "python3-nltk is not installed";
  ExpectIdentical(testing::DataPath("words/tricky.jsonl"));
}

TEST(NltkAgreementTest, BrownCorpus) {
  if (!HaveNltk()) GTEST_SKIP() << "python3-nltk is not installed";
  ExpectIdentical(testing::SampleDir() + "/brown.jsonl");
}

TEST(NltkAgreementTest, UniversalDeclarationInManyLanguages) {
  if (!HaveNltk()) GTEST_SKIP() << "python3-nltk is not installed";
  ExpectIdentical(testing::SampleDir() + "/udhr.jsonl.gz");
}

TEST(NltkAgreementTest, CharacterClassesMatchPython) {
  if (!HaveNltk()) GTEST_SKIP() << "python3-nltk is not installed";
  // Python prints, per code point it knows (Unicode 14.0; utf8proc has
  // 15.0, whose new code points are left out), the bits of isspace(), \w,
  // \d, isupper() and islower() when any is set.
  const std::string output =
      RunCommand(std::string(kPython) + " " + NEEDLE_SOURCE_DIR +
                 "/tests/filters/nltk_words.py --classes");
  size_t checked = 0;
  for (const std::string& line : Split(output, '\n')) {
    if (line.empty()) continue;
    const std::vector<std::string> fields = Split(line, ' ');
    ASSERT_EQ(fields.size(), 2u) << line;
    const auto c = static_cast<char32_t>(std::stoul(fields[0], nullptr, 16));
    const int expected = std::stoi(fields[1]);
    using namespace python_chars;
    const int ours = (IsSpace(c) ? 1 : 0) | (IsWord(c) ? 2 : 0) |
                     (IsDigit(c) ? 4 : 0) | (IsUpper(c) ? 8 : 0) |
                     (IsLower(c) ? 16 : 0);
    EXPECT_EQ(ours, expected) << "U+" << fields[0];
    ++checked;
  }
  EXPECT_GT(checked, 0x30000u);  // every assigned code point
}

}  // namespace
}  // namespace needle
