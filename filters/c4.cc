#include "filters/c4.h"

#include <re2/re2.h>
#include <utf8proc.h>

#include <algorithm>
#include <array>
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
  std::string kept_text;
  std::string lowered_text;
  std::vector<std::string_view> units;  // sentences, without split_paragraph
  std::vector<std::string_view> sentences;

  // Gives back the memory of an unusually large document.
  void Trim() {
    constexpr size_t kKeptBytes = size_t{4} << 20;
    Release(without_citations, kKeptBytes);
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

// The character at line[*i] as str.lower() has it, if that is ASCII: A-Z
// lowered, and KELVIN SIGN (U+212A) as 'k'; 0 for a byte of any other
// non-ASCII character, none of which lowercases to ASCII (bar U+0130, which
// becomes "i\u0307" and so never completes an ASCII phrase). Advances *i
// past what it read.
char LowerAsciiAt(std::string_view line, size_t* i) {
  const auto byte = static_cast<unsigned char>(line[*i]);
  if (byte < 0x80) {
    ++*i;
    return static_cast<char>(byte >= 'A' && byte <= 'Z' ? byte + 32 : byte);
  }
  if (line.substr(*i, 3) == "\xE2\x84\xAA") {
    *i += 3;
    return 'k';
  }
  ++*i;
  return 0;
}

// Whether str.lower(line) holds `phrase` (lowercase ASCII) from line[i] on.
bool LowerPhraseAt(std::string_view line, size_t i, std::string_view phrase) {
  for (const char wanted : phrase) {
    if (i >= line.size() || LowerAsciiAt(line, &i) != wanted) return false;
  }
  return true;
}

// Which of C4's phrases str.lower(line) holds.
struct PhraseHits {
  bool lorem_ipsum = false;
  bool javascript = false;
  bool policy = false;  // any of kPolicyPhrases
};

constexpr std::string_view kLoremIpsum = "lorem ipsum";
constexpr std::string_view kJavascript = "javascript";

// The pairs of bytes a phrase starts with: bit (b0 | b1 << 8) of `bits`
// is set for the pairs b0 b1 of each phrase's characters 0-1 and 1-2, each
// with 0x20 or'ed in (which lowercases A-Z and turns no other byte into a
// letter). In a line, those characters are those bytes: no phrase has a
// 'k' (which a KELVIN SIGN's three bytes could stand for) before its
// fourth character.
struct PhrasePairs {
  std::array<uint64_t, 1024> bits{};

  static constexpr unsigned Pair(unsigned char b0, unsigned char b1) {
    return (b0 | 0x20u) | (b1 | 0x20u) << 8;
  }
  static constexpr unsigned PairAt(std::string_view s, size_t i) {
    return Pair(static_cast<unsigned char>(s[i]),
                static_cast<unsigned char>(s[i + 1]));
  }
  constexpr void Add(std::string_view phrase) {
    for (const size_t i : {0, 1}) {
      const unsigned pair = PairAt(phrase, i);
      bits[pair >> 6] |= uint64_t{1} << (pair & 63);
    }
  }
  constexpr PhrasePairs() {
    Add(kLoremIpsum);
    Add(kJavascript);
    for (const std::string_view phrase : kPolicyPhrases) Add(phrase);
  }
  bool Has(unsigned pair) const { return (bits[pair >> 6] >> (pair & 63)) & 1; }
};
constexpr PhrasePairs kPhrasePairs;

// No phrase has fewer bytes (nor, in a line, where a KELVIN SIGN stands for
// its 'k'), so none starts later in a line than this many bytes before
// its end.
constexpr size_t kShortestPhrase = [] {
  size_t shortest = std::min(kLoremIpsum.size(), kJavascript.size());
  for (const std::string_view phrase : kPolicyPhrases) {
    shortest = std::min(shortest, phrase.size());
  }
  return shortest;
}();
static_assert(kShortestPhrase >= 3);  // PhrasePairs reads three

// One pass over the line, with no lowercased copy, reading a pair of bytes
// at every other byte: a phrase starts at the pair or a byte before it only
// if the pair is one of its first two, which holds for a few percent of
// the bytes of prose; the phrases are compared only there.
PhraseHits FindPhrases(std::string_view line) {
  PhraseHits hits;
  const auto try_start = [&](size_t start) {
    const unsigned pair = PhrasePairs::PairAt(line, start);
    const auto at = [&](std::string_view phrase) {
      return PhrasePairs::PairAt(phrase, 0) == pair &&
             LowerPhraseAt(line, start, phrase);
    };
    hits.lorem_ipsum = hits.lorem_ipsum || at(kLoremIpsum);
    hits.javascript = hits.javascript || at(kJavascript);
    hits.policy = hits.policy || std::any_of(std::begin(kPolicyPhrases),
                                             std::end(kPolicyPhrases), at);
  };
  // Starts run from 0 to line.size() - kShortestPhrase.
  for (size_t i = 0; i + kShortestPhrase <= line.size() + 1; i += 2) {
    if (!kPhrasePairs.Has(PhrasePairs::PairAt(line, i))) continue;
    if (i > 0) try_start(i - 1);
    if (i + kShortestPhrase <= line.size()) try_start(i);
  }
  return hits;
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

// Whether the character at line[*i] is whitespace (str.isspace());
// advances *i past it.
bool SpaceAt(std::string_view line, size_t* i) {
  const auto byte = static_cast<unsigned char>(line[*i]);
  // ASCII needs no decoding; it is most of most lines.
  const char32_t c =
      byte < 0x80 ? line[(*i)++] : python_text::DecodeAt(line, i);
  return python_text::IsSpace(c);
}

// Whether a word of str.split(line) (a run of non-whitespace) is longer
// than `max_chars` code points. A line of no more bytes has none, and is
// not read.
bool HasWordLongerThan(std::string_view line, int64_t max_chars) {
  if (static_cast<int64_t>(line.size()) <= max_chars) return false;
  int64_t current = 0;
  for (size_t i = 0; i < line.size();) {
    current = SpaceAt(line, &i) ? 0 : current + 1;
    if (current > max_chars) return true;
  }
  return false;
}

// Whether str.split(line) has fewer than `min_words` words; reads the line
// only up to the last word it needs.
bool HasFewerWordsThan(std::string_view line, int64_t min_words) {
  int64_t words = 0;
  bool in_word = false;
  for (size_t i = 0; i < line.size() && words < min_words;) {
    const bool space = SpaceAt(line, &i);
    words += !space && !in_word;
    in_word = !space;
  }
  return words < min_words;
}

// Runs the line rules over the document's text; the kept lines, joined,
// end up in scratch.kept_text (not yet stripped).
C4Counts JudgeLines(const C4Quality::Options& o, Document& doc,
                    Scratch& scratch) {
  C4Counts counts;
  scratch.kept_text.clear();
  const char separator = o.split_paragraph ? '\n' : ' ';

  const auto judge = [&](std::string_view unit) {
    ++counts.lines;
    const std::string_view stripped = python_text::Strip(unit);
    std::string_view line = stripped;
    if (o.max_word_length != -1 && HasWordLongerThan(line, o.max_word_length)) {
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
    // Words are counted before citations are cut, as datatrove does.
    if (HasFewerWordsThan(stripped, o.min_words_per_line)) {
      ++counts.too_few_words;
      return;
    }
    const PhraseHits phrases = FindPhrases(line);
    // The document rules are only counted here; the verdict comes later, so
    // that the line goes on through the rules as if they were off.
    counts.lorem_ipsum += phrases.lorem_ipsum;
    if (o.filter_javascript && phrases.javascript) {
      ++counts.javascript;
      return;
    }
    counts.curly_bracket += line.find('{') != std::string_view::npos;
    if (o.filter_policy && phrases.policy) {
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

  if (o.split_paragraph) {
    for (const std::string_view line : words::LinesOf(doc)) judge(line);
    return counts;
  }
  scratch.units.clear();
  words::SplitSentences(doc.text, &scratch.units);
  // datatrove's splitter gives [text] when punkt finds no sentence.
  if (scratch.units.empty()) scratch.units.push_back(doc.text);
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
    const C4Counts c = JudgeLines(options_, doc, scratch);
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
