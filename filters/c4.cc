#include "filters/c4.h"

#include <re2/re2.h>
#include <string.h>  // memmem (GNU)
#include <utf8proc.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>

#include "filters/python_text.h"
#include "filters/words.h"

namespace needle {
namespace {

// datatrove's POLICY_SUBSTRINGS, matched in the lowercased line.
constexpr std::string_view kPolicyPhrases[] = {
    "terms of use", "privacy policy", "cookie policy",
    "uses cookies", "use of cookies", "use cookies",
};

// datatrove removes these from every bad-words list: common subwords in
// languages written without spaces.
constexpr std::string_view kBadWordsAllowed[] = {"sm", "グロ", "女の子", "性"};

// What the rules found in one document.
struct C4Counts {
  int64_t lines = 0;
  int64_t kept = 0;
  int64_t too_long_word = 0;
  int64_t no_terminal_punct = 0;
  int64_t too_few_words = 0;
  int64_t javascript = 0;
  int64_t policy = 0;
  int64_t lorem_ipsum = 0;
  int64_t curly_bracket = 0;
  int64_t sentences = 0;
};

// Frees `buffer` when an unusually large document grew it past `bytes`.
template <class Buffer>
void Release(Buffer& buffer, size_t bytes) {
  if (buffer.capacity() * sizeof(buffer[0]) > bytes) buffer = Buffer();
}

// Buffers reused by every document a thread sees.
struct Scratch {
  std::string without_citations;
  std::string lowered_line;
  std::string kept_text;
  std::string lowered_text;
  std::vector<std::string_view> units;
  std::vector<std::string_view> sentences;

  // Gives back the memory of an unusually large document.
  void Trim() {
    constexpr size_t kKeptBytes = size_t{4} << 20;
    Release(without_citations, kKeptBytes);
    Release(lowered_line, kKeptBytes);
    Release(kept_text, kKeptBytes);
    Release(lowered_text, kKeptBytes);
    Release(units, kKeptBytes);
    Release(sentences, kKeptBytes);
  }
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

// Python's \d on str: a Unicode decimal digit (category Nd).
size_t DecimalDigitAt(std::string_view text, size_t i) {
  const auto b = static_cast<unsigned char>(text[i]);
  if (b < 0x80) return b >= '0' && b <= '9' ? 1 : 0;
  size_t next = i;
  const char32_t c = python_text::DecodeAt(text, &next);
  return utf8proc_category(static_cast<utf8proc_int32_t>(c)) ==
                 UTF8PROC_CATEGORY_ND
             ? next - i
             : 0;
}

// The length of datatrove's CITATION_REGEX match, \[\d*]|\[edit]|\[citation
// needed], at text[i], 0 if none.
size_t CitationAt(std::string_view text, size_t i) {
  if (text[i] != '[') return 0;
  size_t j = i + 1;
  while (j < text.size()) {
    const size_t n = DecimalDigitAt(text, j);
    if (n == 0) break;
    j += n;
  }
  if (j < text.size() && text[j] == ']') return j + 1 - i;
  for (const std::string_view literal : {"[edit]", "[citation needed]"}) {
    if (text.substr(i).starts_with(literal)) return literal.size();
  }
  return 0;
}

// `line` with every citation cut out (re.sub, left to right). Returns `line`
// itself when it has none, else a view of *buffer.
std::string_view RemoveCitations(std::string_view line, std::string* buffer) {
  size_t open = line.find('[');
  if (open == std::string_view::npos) return line;
  buffer->clear();
  size_t copied = 0;
  for (; open < line.size(); open = line.find('[', open + 1)) {
    const size_t n = CitationAt(line, open);
    if (n == 0) continue;
    buffer->append(line.substr(copied, open - copied));
    copied = open + n;
    open = copied - 1;  // the search resumes after the citation
  }
  if (copied == 0) return line;
  buffer->append(line.substr(copied));
  return *buffer;
}

// datatrove: line.endswith((".", "?", "!", '"', "'")) and not "...".
bool EndsWithTerminalPunct(std::string_view line) {
  if (line.empty()) return false;
  const char last = line.back();
  const bool terminal =
      last == '.' || last == '?' || last == '!' || last == '"' || last == '\'';
  return terminal && !line.ends_with("...");
}

// Enough of str.lower() to find ASCII phrases: A-Z, and KELVIN SIGN
// (U+212A), whose lowercase is 'k'. Other non-ASCII letters stay as they
// are; no other lowercases to ASCII, bar U+0130, which becomes "i\u0307" and
// so never completes an ASCII phrase.
void LowerForPhrases(std::string_view line, std::string* out) {
  out->clear();
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c >= 'A' && c <= 'Z') {
      out->push_back(static_cast<char>(c - 'A' + 'a'));
    } else if (c == '\xE2' && line.substr(i, 3) == "\xE2\x84\xAA") {
      out->push_back('k');
      i += 2;
    } else {
      out->push_back(c);
    }
  }
}

// str.lower() for the bad-words search: utf8proc's simple lowercase
// mapping, and U+0130 to "i\u0307" as Python's full mapping has it.
void LowerText(std::string_view text, std::string* out) {
  out->clear();
  size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {
      out->push_back(static_cast<char>(b >= 'A' && b <= 'Z' ? b + 32 : b));
      ++i;
      continue;
    }
    const char32_t c = python_text::DecodeAt(text, &i);
    if (c == 0x130) {
      out->append("i\xCC\x87");
      continue;
    }
    utf8proc_uint8_t encoded[4];
    const utf8proc_ssize_t n = utf8proc_encode_char(
        utf8proc_tolower(static_cast<utf8proc_int32_t>(c)), encoded);
    out->append(reinterpret_cast<const char*>(encoded), static_cast<size_t>(n));
  }
}

// str.split() reduced to what the rules need: how many words (runs of
// non-whitespace) and the longest one's length in code points.
struct SplitCounts {
  int64_t words = 0;
  int64_t longest_word = 0;
};

SplitCounts CountSplitWords(std::string_view line) {
  SplitCounts counts;
  int64_t current = 0;
  size_t i = 0;
  while (i < line.size()) {
    const auto byte = static_cast<unsigned char>(line[i]);
    // ASCII needs no decoding; it is most of most lines.
    const char32_t c =
        byte < 0x80 ? line[i++] : python_text::DecodeAt(line, &i);
    if (python_text::IsSpace(c)) {
      current = 0;
      continue;
    }
    if (current++ == 0) ++counts.words;
    counts.longest_word = std::max(counts.longest_word, current);
  }
  return counts;
}

// glibc's memmem, not string_view::find: find calls memchr again at every
// occurrence of the needle's first letter, and the phrases start with
// common ones ('t', 'p', 'c', 'u'); this was a tenth of the stage's time.
bool Contains(std::string_view haystack, std::string_view needle) {
  return memmem(haystack.data(), haystack.size(), needle.data(),
                needle.size()) != nullptr;
}

// Runs the line rules over `text`; the kept lines, joined, end up in
// scratch.kept_text (not yet stripped).
C4Counts JudgeLines(const C4Quality::Options& o, std::string_view text,
                    Scratch& scratch) {
  C4Counts counts;
  scratch.kept_text.clear();
  const char separator = o.split_paragraph ? '\n' : ' ';

  const auto judge = [&](std::string_view unit) {
    ++counts.lines;
    std::string_view line = python_text::Strip(unit);
    // Words are counted before citations are cut, as datatrove does.
    const SplitCounts words = CountSplitWords(line);
    if (o.max_word_length != -1 && words.longest_word > o.max_word_length) {
      ++counts.too_long_word;
      return;
    }
    if (o.remove_citations) {
      line = RemoveCitations(line, &scratch.without_citations);
    }
    if (o.filter_no_terminal_punct && !EndsWithTerminalPunct(line)) {
      ++counts.no_terminal_punct;
      return;
    }
    if (words.words < o.min_words_per_line) {
      ++counts.too_few_words;
      return;
    }
    LowerForPhrases(line, &scratch.lowered_line);
    const std::string_view lowered = scratch.lowered_line;
    // The document rules are only counted here; the verdict comes later, so
    // that the line goes on through the rules as if they were off.
    counts.lorem_ipsum += Contains(lowered, "lorem ipsum");
    if (o.filter_javascript && Contains(lowered, "javascript")) {
      ++counts.javascript;
      return;
    }
    counts.curly_bracket += Contains(line, "{");
    if (o.filter_policy &&
        std::any_of(std::begin(kPolicyPhrases), std::end(kPolicyPhrases),
                    [&](std::string_view p) { return Contains(lowered, p); })) {
      ++counts.policy;
      return;
    }
    if (o.split_paragraph) {
      scratch.sentences.clear();
      words::SplitSentences(line, &scratch.sentences);
      // datatrove's split_into_sentences("") is [""]: one sentence.
      counts.sentences +=
          std::max<int64_t>(1, static_cast<int64_t>(scratch.sentences.size()));
    } else {
      ++counts.sentences;
    }
    if (counts.kept++ > 0) scratch.kept_text.push_back(separator);
    scratch.kept_text.append(line);
  };

  scratch.units.clear();
  if (o.split_paragraph) {
    python_text::SplitLines(text, &scratch.units);
  } else {
    words::SplitSentences(text, &scratch.units);
    // datatrove's splitter gives [text] when punkt finds no sentence.
    if (scratch.units.empty()) scratch.units.push_back(text);
  }
  for (const std::string_view unit : scratch.units) judge(unit);
  return counts;
}

std::unique_ptr<const re2::RE2> CompileBadWords(const std::string& path) {
  if (path.empty()) return nullptr;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read bad_words_file " + path);
  std::string alternatives;
  std::string lowered;
  for (std::string line; std::getline(in, line);) {
    LowerText(python_text::Strip(line), &lowered);
    if (lowered.empty() ||
        std::find(std::begin(kBadWordsAllowed), std::end(kBadWordsAllowed),
                  lowered) != std::end(kBadWordsAllowed)) {
      continue;
    }
    if (!alternatives.empty()) alternatives += '|';
    alternatives += RE2::QuoteMeta(lowered);
  }
  if (alternatives.empty()) {
    throw std::runtime_error("bad_words_file " + path + " holds no word");
  }
  // Python's \w on str is a letter, a number or '_'; datatrove's
  // (?:\W|^)(...)(?:\W|$) asks for a non-word character or an end on both
  // sides of the word.
  const std::string pattern =
      "(?:^|[^\\pL\\pN_])(?:" + alternatives + ")(?:$|[^\\pL\\pN_])";
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(int64_t{256} << 20);  // room for long lists
  auto regex = std::make_unique<const re2::RE2>(pattern, options);
  if (!regex->ok()) {
    throw std::runtime_error("bad_words_file " + path +
                             ": cannot compile its words: " + regex->error());
  }
  return regex;
}

}  // namespace

C4Quality::C4Quality(const Options& options)
    : options_(options), bad_words_(CompileBadWords(options.bad_words_file)) {}

C4Quality::~C4Quality() = default;

void C4Quality::Process(std::span<Document> docs) const {
  Scratch& scratch = ThreadScratch();
  for (Document& doc : docs) {
    if (!doc.ok() || words::SkipsLanguage(doc, options_.skip_languages)) {
      continue;
    }
    const C4Counts c = JudgeLines(options_, doc.text, scratch);
    const std::string_view kept = python_text::Strip(scratch.kept_text);
    bool bad_words = false;
    if (bad_words_ != nullptr) {
      LowerText(kept, &scratch.lowered_text);
      bad_words = RE2::PartialMatch(scratch.lowered_text, *bad_words_);
    }

    doc.signals.push_back({"c4.lines", c.lines});
    doc.signals.push_back({"c4.lines_kept", c.kept});
    doc.signals.push_back({"c4.lines_removed", c.lines - c.kept});
    doc.signals.push_back({"c4.lines_too_long_word", c.too_long_word});
    doc.signals.push_back({"c4.lines_no_terminal_punct", c.no_terminal_punct});
    doc.signals.push_back({"c4.lines_too_few_words", c.too_few_words});
    doc.signals.push_back({"c4.lines_javascript", c.javascript});
    doc.signals.push_back({"c4.lines_policy", c.policy});
    doc.signals.push_back({"c4.lorem_ipsum_lines", c.lorem_ipsum});
    doc.signals.push_back({"c4.curly_bracket_lines", c.curly_bracket});
    doc.signals.push_back({"c4.sentences", c.sentences});
    doc.signals.push_back({"c4.bytes_kept", static_cast<int64_t>(kept.size())});
    if (bad_words_ != nullptr) {
      doc.signals.push_back({"c4.bad_words", int64_t{bad_words}});
    }

    const Options& o = options_;
    if (o.filter_lorem_ipsum && c.lorem_ipsum > 0) {
      Reject(doc, Reason::kC4LoremIpsum);
    } else if (o.filter_curly_bracket && c.curly_bracket > 0) {
      Reject(doc, Reason::kC4CurlyBracket);
    } else if (c.sentences < o.min_num_sentences) {
      Reject(doc, Reason::kC4TooFewSentences);
    } else if (bad_words) {
      Reject(doc, Reason::kC4BadWords);
    } else if (kept.empty()) {
      Reject(doc, Reason::kC4NoLinesLeft);
    } else if (o.remove_lines && kept != doc.text) {
      doc.RewriteText(std::string(kept));
    }
    scratch.Trim();  // `kept` is not used after this
  }
}

}  // namespace needle
