#include "pipeline/minhash.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <utf8proc.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <new>
#include <random>
#include <set>
#include <thread>
#include <unordered_set>
#include <vector>

#include "tests/test_util.h"

// Counts this thread's heap allocations while `counting` is set, to check
// that Compute() allocates nothing in steady state. Every form of new and
// delete that another may be paired with is replaced, so that sanitizers
// see matching pairs; out of line, so that GCC does not pair the
// new-expressions it inlines into with free().
namespace {
thread_local bool counting = false;
thread_local size_t allocations = 0;

__attribute__((noinline)) void* CountedMalloc(size_t size) noexcept {
  if (counting) ++allocations;
  return std::malloc(size == 0 ? 1 : size);
}
}  // namespace

__attribute__((noinline)) void* operator new(size_t size) {
  if (void* p = CountedMalloc(size)) return p;
  throw std::bad_alloc();
}
__attribute__((noinline)) void* operator new(
    size_t size, const std::nothrow_t& /*tag*/) noexcept {
  return CountedMalloc(size);
}
__attribute__((noinline)) void operator delete(void* p) noexcept {
  std::free(p);
}
__attribute__((noinline)) void operator delete(void* p,
                                               size_t /*size*/) noexcept {
  std::free(p);
}
__attribute__((noinline)) void operator delete(
    void* p, const std::nothrow_t& /*tag*/) noexcept {
  std::free(p);
}

namespace needle {
namespace {

using testing::SampleTexts;

const std::vector<std::string>& BrownTexts() {
  static const auto* texts =
      new std::vector<std::string>(SampleTexts("brown.jsonl"));
  return *texts;
}

const std::vector<std::string>& UdhrTexts() {
  static const auto* texts =
      new std::vector<std::string>(SampleTexts("udhr.jsonl.gz"));
  return *texts;
}

std::vector<uint32_t> Signature(const MinHasher& hasher,
                                std::string_view normalized) {
  std::vector<uint32_t> out(hasher.options().bands * hasher.options().rows);
  hasher.Signature(normalized, out);
  return out;
}

std::vector<uint32_t> SignatureReference(const MinHasher& hasher,
                                         std::string_view normalized) {
  std::vector<uint32_t> out(hasher.options().bands * hasher.options().rows);
  hasher.SignatureReference(normalized, out);
  return out;
}

DedupKeys Keys(const MinHasher& hasher, std::string_view text) {
  DedupKeys keys;
  hasher.Compute(text, &keys);
  return keys;
}

bool SameKeys(const DedupKeys& a, const DedupKeys& b) {
  return a.exact_hi == b.exact_hi && a.exact_lo == b.exact_lo &&
         a.bands == b.bands;
}

// The obvious normalizer: utf8proc's own NFKC_Casefold of the whole text,
// then punctuation dropped and whitespace runs collapsed, code point by
// code point.
std::string ReferenceNormalize(const std::string& text) {
  utf8proc_uint8_t* folded = utf8proc_NFKC_Casefold(
      reinterpret_cast<const utf8proc_uint8_t*>(text.c_str()));
  if (folded == nullptr) return "<utf8proc failed>";
  const std::string nfkc(reinterpret_cast<char*>(folded));
  std::free(folded);
  std::string out;
  bool space = false;
  for (size_t pos = 0; pos < nfkc.size();) {
    utf8proc_int32_t cp = 0;
    pos += static_cast<size_t>(utf8proc_iterate(
        reinterpret_cast<const utf8proc_uint8_t*>(nfkc.data() + pos),
        static_cast<utf8proc_ssize_t>(nfkc.size() - pos), &cp));
    const std::string category = utf8proc_category_string(cp);
    if (category[0] == 'P') continue;
    if (category[0] == 'Z' || cp == '\t' || cp == '\n' || cp == '\v' ||
        cp == '\f' || cp == '\r' || cp == 0x85) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    utf8proc_uint8_t bytes[4];
    out.append(reinterpret_cast<char*>(bytes),
               static_cast<size_t>(utf8proc_encode_char(cp, bytes)));
  }
  return out;
}

TEST(MinHashTest, NormalizeAppliesNfkcAndCaseFolding) {
  EXPECT_EQ(MinHasher::Normalize("\uFB01ne \uFB00"), "fine ff");  // ligatures
  EXPECT_EQ(MinHasher::Normalize("\uFF21\uFF22\uFF23 \uFF58\uFF19"),
            "abc x9");  // full-width
  EXPECT_EQ(MinHasher::Normalize("Stra\u00DFe"), "strasse");
  EXPECT_EQ(MinHasher::Normalize("STRASSE"), "strasse");
  EXPECT_EQ(MinHasher::Normalize("\u0391\u03A3\u039F\u03A3"),
            "\u03B1\u03C3\u03BF\u03C3");  // Greek capitals fold to small
  EXPECT_EQ(MinHasher::Normalize("x\u00B2 \u2460"), "x2 1");
  // Soft hyphen and zero-width space are default ignorable: removed.
  EXPECT_EQ(MinHasher::Normalize("hy\u00ADphen zero\u200Bwidth"),
            "hyphen zerowidth");
}

TEST(MinHashTest, NormalizeComposesCombiningMarks) {
  // The decomposed form of é composes with its ASCII base, also at the
  // very start of the text.
  EXPECT_EQ(MinHasher::Normalize("Cafe\u0301"), "caf\u00E9");
  EXPECT_EQ(MinHasher::Normalize("E\u0301t\u00E9"), "\u00E9t\u00E9");
  // Marks are put in canonical order before composing: dot below (220)
  // before acute (230).
  EXPECT_EQ(MinHasher::Normalize("a\u0301\u0323"),
            MinHasher::Normalize("a\u0323\u0301"));
  EXPECT_EQ(MinHasher::Normalize("a\u0301\u0323"), "\u1EA1\u0301");
  // Hangul jamo compose to a syllable.
  EXPECT_EQ(MinHasher::Normalize("\u1112\u1161\u11AB"), "\uD55C");
}

TEST(MinHashTest, NormalizeRemovesPunctuation) {
  EXPECT_EQ(MinHasher::Normalize("\u00ABHello\u00BB \u2014 world\u2026"),
            "hello world");
  EXPECT_EQ(MinHasher::Normalize("Don't stop: (now), \"ok\"!?"),
            "dont stop now ok");
  EXPECT_EQ(MinHasher::Normalize("\u00BFQu\u00E9? \u300C\u6771\u4EAC\u300D"),
            "qu\u00E9 \u6771\u4EAC");
  // Symbols are not punctuation.
  EXPECT_EQ(MinHasher::Normalize("1+1=2 $5 <b>"), "1+1=2 $5 <b>");
}

TEST(MinHashTest, NormalizeCollapsesAndTrimsWhitespace) {
  EXPECT_EQ(MinHasher::Normalize(" \t a\r\n\n b\u00A0\u00A0c\u3000d\v\fe "),
            "a b c d e");
  EXPECT_EQ(MinHasher::Normalize("a\u2028b\u2029c\u0085d\u1680e\u2003f"),
            "a b c d e f");
  // Punctuation between spaces leaves one space.
  EXPECT_EQ(MinHasher::Normalize("a - b -- c"), "a b c");
  EXPECT_EQ(MinHasher::Normalize(" \u3000\n"), "");
  EXPECT_EQ(MinHasher::Normalize("... !!"), "");
  EXPECT_EQ(MinHasher::Normalize(""), "");
}

TEST(MinHashTest, NormalizeReplacesInvalidUtf8ByteByByte) {
  EXPECT_EQ(MinHasher::Normalize("a\xFF\xFE b"), "a\uFFFD\uFFFD b");
  EXPECT_EQ(MinHasher::Normalize("x\xC3"), "x\uFFFD");  // truncated
}

TEST(MinHashTest, NormalizeMatchesUtf8procOnSampleTexts) {
  size_t checked = 0;
  for (const auto* texts : {&UdhrTexts(), &BrownTexts()}) {
    for (const std::string& text : *texts) {
      ASSERT_EQ(MinHasher::Normalize(text), ReferenceNormalize(text))
          << text.substr(0, 200);
      ++checked;
    }
  }
  EXPECT_GT(checked, 1000u);
}

TEST(MinHashTest, SignatureMatchesScalarReference) {
  std::vector<DedupOptions> settings(3);
  settings[1].ngram_words = 3;
  settings[1].bands = 3;  // 15 values: not a multiple of the vector width
  settings[1].rows = 5;
  settings[2].ngram_words = 1;
  settings[2].bands = 32;
  settings[2].rows = 64;
  settings[2].seed = 12345;
  std::vector<std::string> texts = {"", "a", "two words", "a b c d e",
                                    "a b c d e f"};
  for (size_t i = 0; i < BrownTexts().size(); i += 25) {
    texts.push_back(BrownTexts()[i]);
  }
  for (size_t i = 0; i < UdhrTexts().size(); i += 50) {
    texts.push_back(UdhrTexts()[i]);
  }
  for (const DedupOptions& options : settings) {
    const MinHasher hasher(options);
    for (const std::string& text : texts) {
      const std::string normalized = MinHasher::Normalize(text);
      ASSERT_EQ(Signature(hasher, normalized),
                SignatureReference(hasher, normalized))
          << "ngram_words " << options.ngram_words << ", text "
          << normalized.substr(0, 100);
    }
  }
}

TEST(MinHashTest, TextShorterThanNgramIsHashedWhole) {
  DedupOptions five;
  DedupOptions three;
  three.ngram_words = 3;
  // Three words: one 3-gram, and fewer than 5 words: the whole text.
  EXPECT_EQ(Signature(MinHasher(five), "one two three"),
            Signature(MinHasher(three), "one two three"));
  EXPECT_NE(Signature(MinHasher(five), "one two three"),
            Signature(MinHasher(five), "one two four"));
  const MinHasher hasher(five);
  EXPECT_EQ(Signature(hasher, "one two"),
            SignatureReference(hasher, "one two"));
  EXPECT_TRUE(SameKeys(Keys(hasher, "One, two!"), Keys(hasher, "one two")));
  EXPECT_FALSE(SameKeys(Keys(hasher, "one two"), Keys(hasher, "two one")));
}

TEST(MinHashTest, EmptyTextIsOneEmptyShingle) {
  const MinHasher hasher{DedupOptions()};
  // Nothing left after normalization: every such text has the same keys,
  // those of one empty shingle.
  const DedupKeys empty = Keys(hasher, "");
  EXPECT_TRUE(SameKeys(Keys(hasher, " ... \n !! "), empty));
  EXPECT_FALSE(SameKeys(Keys(hasher, "a"), empty));
  EXPECT_EQ(Signature(hasher, ""), SignatureReference(hasher, ""));
  EXPECT_NE(Signature(hasher, ""), Signature(hasher, "a"));
}

TEST(MinHashTest, ExactKeyIgnoresCaseWhitespaceAndPunctuation) {
  const MinHasher hasher{DedupOptions()};
  const std::string text = BrownTexts().at(0);
  std::string variant;
  for (const char c : text) {
    if (c == ' ') {
      variant += " \n\t ";
    } else {
      variant += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  const DedupKeys a = Keys(hasher, text);
  const DedupKeys b = Keys(hasher, "  " + variant + " \u3000");
  EXPECT_TRUE(SameKeys(a, b));
  const DedupKeys c = Keys(hasher, text + " More.");
  EXPECT_FALSE(a.exact_hi == c.exact_hi && a.exact_lo == c.exact_lo);
  // One word more changes few shingles: some bands still agree.
  size_t equal_bands = 0;
  for (size_t i = 0; i < hasher.options().bands; ++i) {
    equal_bands += a.bands[i] == c.bands[i];
  }
  EXPECT_GT(equal_bands, 0u);
  // Unused bands are zero.
  EXPECT_EQ(a.bands[hasher.options().bands], 0u);
}

TEST(MinHashTest, SeedChangesEveryValue) {
  DedupOptions other;
  other.seed = 2;
  const std::string normalized = MinHasher::Normalize(BrownTexts().at(1));
  const auto a = Signature(MinHasher(DedupOptions()), normalized);
  const auto b = Signature(MinHasher(other), normalized);
  ASSERT_EQ(a.size(), b.size());
  size_t equal = 0;
  for (size_t i = 0; i < a.size(); ++i) equal += a[i] == b[i];
  EXPECT_EQ(equal, 0u);
  EXPECT_EQ(a, Signature(MinHasher(DedupOptions()), normalized));
}

TEST(MinHashTest, ComputeAllocatesNothingInSteadyState) {
  const MinHasher hasher{DedupOptions()};
  DedupKeys keys;
  for (const std::string& text : BrownTexts()) hasher.Compute(text, &keys);
  for (const std::string& text : UdhrTexts()) hasher.Compute(text, &keys);
  counting = true;
  allocations = 0;
  for (const std::string& text : BrownTexts()) hasher.Compute(text, &keys);
  for (const std::string& text : UdhrTexts()) hasher.Compute(text, &keys);
  counting = false;
  EXPECT_EQ(allocations, 0u);
}

TEST(MinHashTest, ComputeIsThreadSafe) {
  const MinHasher hasher{DedupOptions()};
  const auto& texts = BrownTexts();
  std::vector<DedupKeys> serial(texts.size());
  for (size_t i = 0; i < texts.size(); ++i)
    hasher.Compute(texts[i], &serial[i]);
  std::vector<DedupKeys> parallel(texts.size());
  auto work = [&](size_t first) {
    for (size_t i = first; i < texts.size(); i += 2) {
      hasher.Compute(texts[i], &parallel[i]);
    }
  };
  std::thread other(work, 1);
  work(0);
  other.join();
  for (size_t i = 0; i < texts.size(); ++i) {
    ASSERT_TRUE(SameKeys(serial[i], parallel[i])) << i;
  }
}

// Distinct normalized words of the Brown corpus, in a fixed order.
std::vector<std::string> Vocabulary() {
  std::set<std::string> words;
  for (const std::string& text : BrownTexts()) {
    const std::string normalized = MinHasher::Normalize(text);
    for (size_t pos = 0; pos < normalized.size();) {
      const size_t space =
          std::min(normalized.find(' ', pos), normalized.size());
      words.insert(normalized.substr(pos, space - pos));
      pos = space + 1;
    }
  }
  return {words.begin(), words.end()};
}

std::string RandomWords(const std::vector<std::string>& vocabulary,
                        size_t count, std::mt19937_64* rng) {
  std::uniform_int_distribution<size_t> pick(0, vocabulary.size() - 1);
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) out += ' ';
    out += vocabulary[pick(*rng)];
  }
  return out;
}

// The exact Jaccard similarity of the word n-gram sets of two normalized
// texts of at least n words, by brute force.
double ExactJaccard(std::string_view a, std::string_view b, size_t n) {
  auto shingles = [n](std::string_view text) {
    std::vector<size_t> starts = {0};
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == ' ') starts.push_back(i + 1);
    }
    std::unordered_set<std::string_view> set;
    for (size_t k = 0; k + n <= starts.size(); ++k) {
      const size_t end =
          k + n < starts.size() ? starts[k + n] - 1 : text.size();
      set.insert(text.substr(starts[k], end - starts[k]));
    }
    return set;
  };
  const auto sa = shingles(a);
  const auto sb = shingles(b);
  size_t common = 0;
  for (const std::string_view s : sa) common += sb.count(s);
  return static_cast<double>(common) /
         static_cast<double>(sa.size() + sb.size() - common);
}

// Pairs with a planted word-5-gram Jaccard similarity s (a shared run of
// words that holds kShared shingles, then d words of each document's own,
// so that J = kShared / (kShared + 2d)) collide in at least one band as
// often as the LSH curve 1 - (1 - s^r)^b says.
TEST(MinHashTest, BandCollisionsFollowTheLshCurve) {
  const DedupOptions options;  // 14 bands x 8 rows, 5-grams
  const MinHasher hasher(options);
  const std::vector<std::string> vocabulary = Vocabulary();
  ASSERT_GT(vocabulary.size(), 10'000u);
  constexpr size_t kShared = 504;  // d = kShared (1 - s) / 2s is whole
  constexpr int kPairs = 5000;
  std::mt19937_64 rng(20240605);
  for (const int tenths : {5, 6, 7, 8, 9}) {
    const double s = tenths / 10.0;
    const size_t own =
        kShared * (10 - tenths) / (2 * static_cast<size_t>(tenths));
    int collided = 0;
    for (int pair = 0; pair < kPairs; ++pair) {
      const std::string shared =
          RandomWords(vocabulary, kShared + options.ngram_words - 1, &rng);
      const std::string a = shared + ' ' + RandomWords(vocabulary, own, &rng);
      const std::string b = shared + ' ' + RandomWords(vocabulary, own, &rng);
      if (pair % 100 == 0) {  // the construction, checked by brute force
        ASSERT_NEAR(ExactJaccard(a, b, options.ngram_words), s, 1e-12);
      }
      const DedupKeys ka = Keys(hasher, a);
      const DedupKeys kb = Keys(hasher, b);
      bool any = false;
      for (size_t band = 0; band < options.bands; ++band) {
        any = any || ka.bands[band] == kb.bands[band];
      }
      collided += any;
    }
    const double measured = static_cast<double>(collided) / kPairs;
    const double expected =
        1 - std::pow(1 - std::pow(s, static_cast<double>(options.rows)),
                     static_cast<double>(options.bands));
    std::printf("s = %.1f: %.4f of pairs share a band (LSH curve %.4f)\n", s,
                measured, expected);
    EXPECT_NEAR(measured, expected, 0.03) << "s = " << s;
  }
}

// On small sets of known Jaccard similarity J, the fraction of equal
// signature values estimates J with the binomial error sqrt(J(1-J)/k).
TEST(MinHashTest, SignatureEstimatesJaccard) {
  const MinHasher hasher{DedupOptions()};
  const size_t k = hasher.options().bands * hasher.options().rows;
  const std::vector<std::string> vocabulary = Vocabulary();
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<size_t> pick(0, vocabulary.size() - 1);
  constexpr int kPairs = 400;
  double sum_error = 0;
  double sum_variance = 0;
  double sum_z2 = 0;
  int z_count = 0;
  for (int pair = 0; pair < kPairs; ++pair) {
    // B is A with some of its 40 words replaced.
    std::vector<std::string> a(40);
    for (std::string& word : a) word = vocabulary[pick(rng)];
    std::vector<std::string> b = a;
    const size_t edits = static_cast<size_t>(pair) % 12;
    for (size_t e = 0; e < edits; ++e)
      b[pick(rng) % b.size()] = vocabulary[pick(rng)];
    auto join = [](const std::vector<std::string>& words) {
      std::string out;
      for (const std::string& word : words)
        out += (out.empty() ? "" : " ") + word;
      return out;
    };
    const std::string ta = join(a);
    const std::string tb = join(b);
    const double j = ExactJaccard(ta, tb, hasher.options().ngram_words);
    const auto sa = Signature(hasher, ta);
    const auto sb = Signature(hasher, tb);
    size_t equal = 0;
    for (size_t i = 0; i < k; ++i) equal += sa[i] == sb[i];
    const double estimate = static_cast<double>(equal) / static_cast<double>(k);
    const double sigma = std::sqrt(j * (1 - j) / static_cast<double>(k));
    EXPECT_LE(std::abs(estimate - j), 4 * sigma + 1e-9)
        << "pair " << pair << ": J " << j << ", estimate " << estimate;
    sum_error += estimate - j;
    sum_variance += sigma * sigma;
    if (sigma > 0) {
      sum_z2 += (estimate - j) * (estimate - j) / (sigma * sigma);
      ++z_count;
    }
  }
  // No bias: the mean error is within 4 standard errors of zero.
  EXPECT_LE(std::abs(sum_error / kPairs), 4 * std::sqrt(sum_variance) / kPairs);
  // Independent hash functions: the errors' spread is the binomial one
  // (correlated functions would inflate it).
  ASSERT_GT(z_count, 100);
  EXPECT_LT(sum_z2 / z_count, 1.5);
  EXPECT_GT(sum_z2 / z_count, 0.6);
}

}  // namespace
}  // namespace needle
