#pragma once
// C4's clean-up rules (Raffel et al. 2020, section 2.2), as datatrove's
// C4QualityFilter and C4BadWordsFilter apply them (filters/c4_filters.py).
//
// Lines (str.splitlines(), or sentences with split_paragraph = false) are
// stripped and looked at one by one, in datatrove's order; a line goes at
// the first rule it fails, and the counters say which:
//   1. a str.split() word longer than max_word_length code points,
//   2. (then Wikipedia citations "[12]", "[edit]", "[citation needed]" are
//      cut from it when remove_citations is on)
//   3. no terminal punctuation: not ending in . ? ! " ' or ending in "...",
//   4. fewer than min_words_per_line str.split() words (counted before
//      citation removal, as datatrove counts them),
//   5. "javascript" in it, any case,
//   6. a cookie or terms-of-use phrase in it, any case.
// The document rules look only at lines that reach them: "lorem ipsum" in a
// line that passed rules 1-4, "{" in one that passed 1-5. They are counted
// there and the line goes on as if they were off, so that every line is
// judged. Sentences (words::SplitSentences, NLTK punkt; at least 1 a kept
// line, as datatrove's splitter gives for blank text) are counted on the
// kept lines. The kept lines, joined by "\n" (" " without split_paragraph)
// and stripped, are the text bad words are looked for in, and replace the
// text of a kept document when remove_lines is on and it changed.
//
// Every document looked at gets every signal, whatever the verdict, so
// thresholds can be re-applied from stored signals: c4.lines, c4.lines_kept,
// c4.lines_removed, the removed lines by rule (c4.lines_too_long_word,
// c4.lines_no_terminal_punct, c4.lines_too_few_words, c4.lines_javascript,
// c4.lines_policy), c4.lorem_ipsum_lines, c4.curly_bracket_lines,
// c4.sentences, c4.bytes_kept (of the joined text), and c4.bad_words (0 or
// 1) when a list is set. Then it is rejected for the first rule that fails,
// in datatrove's order: c4_lorem_ipsum, c4_curly_bracket,
// c4_too_few_sentences, c4_bad_words (datatrove's C4BadWordsFilter after
// C4QualityFilter), c4_no_lines_left. Documents whose "lang" signal is in
// skip_languages pass unmeasured.
//
// Deliberate differences from datatrove:
// - datatrove returns at the first "lorem ipsum" or "{" line, so a document
//   with both is reported for whichever comes first; here the reason follows
//   the fixed order above (the document is rejected either way).
// - An empty result (no line kept, possible when min_num_sentences <= 0) is
//   rejected as c4_no_lines_left; datatrove would write an empty document.
// - Bad words: one list for all documents (datatrove picks a list by the
//   document's language and matches without word boundaries for ja, th and
//   zh, which skip_languages skips by default); keep_fraction is not
//   offered (it is a random draw); blank list lines are ignored and entries
//   are lowercased (datatrove's regex would match an empty entry almost
//   anywhere, and an entry with capitals never, as it searches lowercased
//   text). Lowercasing uses utf8proc's simple mapping plus U+0130 -> "i̇";
//   Python's final-sigma rule is not applied.
//
// Stateless after construction (the compiled bad-words pattern is
// read-only); per-thread scratch buffers keep Process() free of allocations
// per line.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/config.h"
#include "stages/stage.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace needle {

class C4Quality final : public Stage {
 public:
  struct Options {  // TOML [c4]; datatrove's names and defaults
    bool split_paragraph = true;
    bool remove_citations = true;
    bool filter_no_terminal_punct = true;
    int min_num_sentences = 5;   // -1: off
    int min_words_per_line = 3;  // -1: off
    int max_word_length = 1000;  // code points; -1: off
    bool filter_lorem_ipsum = true;
    bool filter_javascript = true;
    bool filter_curly_bracket = true;
    bool filter_policy = true;
    bool remove_lines = true;
    std::string bad_words_file;  // "" = no bad-words rule
    std::vector<std::string> skip_languages = {"zh", "ja", "th", "ko",
                                               "my", "lo", "km", "bo"};

    void Visit(ConfigSection& s) {
      s.Field("split_paragraph", &split_paragraph,
              "Judge lines (str.splitlines()) as C4 does; false judges "
              "NLTK sentences instead and joins the kept ones with spaces.");
      s.Field("remove_citations", &remove_citations,
              "Cut Wikipedia citations ([12], [edit], [citation needed]) "
              "from each line before the punctuation rule.");
      s.Field("filter_no_terminal_punct", &filter_no_terminal_punct,
              "Remove lines that do not end in . ? ! \" ' or that end in "
              "\"...\".");
      s.Field("min_num_sentences", &min_num_sentences,
              "Reject documents whose kept lines hold fewer NLTK sentences "
              "(c4_too_few_sentences); -1 turns the rule off.",
              -1);
      s.Field("min_words_per_line", &min_words_per_line,
              "Remove lines with fewer whitespace-separated words; -1 keeps "
              "all.",
              -1);
      s.Field("max_word_length", &max_word_length,
              "Remove lines with a word of more than this many characters; "
              "-1 keeps all.",
              -1);
      s.Field("filter_lorem_ipsum", &filter_lorem_ipsum,
              "Reject documents with \"lorem ipsum\" (any case) in a line "
              "that passed the rules above (c4_lorem_ipsum).");
      s.Field("filter_javascript", &filter_javascript,
              "Remove lines that contain \"javascript\" (any case).");
      s.Field("filter_curly_bracket", &filter_curly_bracket,
              "Reject documents with \"{\" in a line that passed the rules "
              "above (c4_curly_bracket).");
      s.Field("filter_policy", &filter_policy,
              "Remove lines that mention terms of use, a privacy or cookie "
              "policy, or the use of cookies (any case).");
      s.Field("remove_lines", &remove_lines,
              "Write the kept lines in place of the text; false leaves the "
              "text as it was (signals and verdicts are the same).");
      s.Field("bad_words_file", &bad_words_file,
              "A list of bad words, one word or phrase a line, e.g. "
              "LDNOOBW's en; reject documents where one occurs between "
              "non-word characters, any case (c4_bad_words). \"\" turns the "
              "rule off.");
      s.Field("skip_languages", &skip_languages,
              "Documents whose lang signal is one of these pass unmeasured "
              "(scripts without spaces between words).");
    }
  };

  // Reads and compiles bad_words_file; throws std::runtime_error naming the
  // file when it cannot be read or holds no word.
  explicit C4Quality(const Options& options);
  ~C4Quality() override;
  C4Quality(const C4Quality&) = delete;
  C4Quality& operator=(const C4Quality&) = delete;

  std::string_view name() const override { return "c4"; }
  void Process(std::span<Document> docs) const override;

 private:
  Options options_;
  std::unique_ptr<const re2::RE2> bad_words_;  // null: no list
};

}  // namespace needle
