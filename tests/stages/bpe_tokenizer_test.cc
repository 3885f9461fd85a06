#include "stages/bpe_tokenizer.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <stdexcept>

#include "pipeline/json_text.h"
#include "tests/stages/token_fixtures.h"
#include "tests/test_util.h"

namespace needle {
namespace {

using testing::DataPath;
using testing::FixtureTexts;
using testing::Lines;
using testing::MakeTempDir;
using testing::NamedText;
using testing::ReadFile;
using testing::RunNode;
using testing::ShardTexts;
using testing::TiktokenDir;
using testing::WritePackedTexts;

const BpeTokenizer& Tokenizer(const std::string& encoding) {
  return testing::LoadedTokenizer(encoding);
}

// ------------------------------------------------------- tiktoken equivalence

uint32_t Fnv1a(const std::vector<uint32_t>& ids) {
  uint32_t hash = 0x811c9dc5;
  for (const uint32_t id : ids) hash = (hash ^ id) * 0x01000193;
  return hash;
}

// tiktoken's "COUNT HASH" line for each of `texts`, from
// tests/stages/tiktoken_counts.cjs.
std::vector<std::string> TiktokenCounts(const std::string& encoding,
                                        const std::vector<NamedText>& texts) {
  if (!std::filesystem::exists(TiktokenDir() + "/tiktoken.cjs")) {
    throw std::runtime_error("no npm tiktoken package in " + TiktokenDir() +
                             "; run scripts/setup");
  }
  const std::string dir = MakeTempDir();
  WritePackedTexts(texts, dir + "/texts.bin");
  RunNode("tiktoken_counts.cjs",
          {TiktokenDir(), encoding, dir + "/texts.bin", dir + "/counts.txt"});
  return Lines(ReadFile(dir + "/counts.txt"));
}

void ExpectCountsEqualTiktoken(const std::string& encoding) {
  const auto& texts = FixtureTexts();
  const std::vector<std::string> expected = TiktokenCounts(encoding, texts);
  ASSERT_EQ(expected.size(), texts.size());
  const BpeTokenizer& tokenizer = Tokenizer(encoding);
  BpeCache cache;
  size_t mismatches = 0;
  int64_t total = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const int64_t count = tokenizer.Count(texts[i].text, cache);
    std::vector<uint32_t> ids;
    tokenizer.Encode(texts[i].text, &ids);
    const std::string actual = fmt::format("{} {}", ids.size(), Fnv1a(ids));
    std::string decoded;
    for (const uint32_t id : ids) decoded += tokenizer.Bytes(id);
    total += count;
    if (actual != expected[i] || count != static_cast<int64_t>(ids.size()) ||
        decoded != texts[i].text) {
      if (++mismatches <= 5) {
        ADD_FAILURE() << texts[i].name << ": tiktoken (count hash) "
                      << expected[i] << ", ours " << actual << ", Count() "
                      << count << "; text starts \""
                      << texts[i].text.substr(0, 80) << "\"";
      }
    }
  }
  EXPECT_EQ(mismatches, 0u) << "of " << texts.size() << " documents";
  std::printf("%s: %zu documents, %lld tokens, as tiktoken counts them\n",
              encoding.c_str(), texts.size(), static_cast<long long>(total));
}

TEST(BpeTokenizerTest, Cl100kCountsEqualNpmTiktokenOnEveryFixtureDocument) {
  ExpectCountsEqualTiktoken("cl100k_base");
}

TEST(BpeTokenizerTest, O200kCountsEqualNpmTiktokenOnEveryFixtureDocument) {
  ExpectCountsEqualTiktoken("o200k_base");
}

TEST(BpeTokenizerTest, R50kCountsEqualNpmTiktokenOnEveryFixtureDocument) {
  ExpectCountsEqualTiktoken("r50k_base");
}

TEST(BpeTokenizerTest, LoneSurrogateEscapeIsQuarantinedBeforeAnyStage) {
  std::map<uint64_t, Reason> faults;
  const auto texts = ShardTexts(DataPath("tokens/odd.jsonl"), &faults);
  ASSERT_EQ(faults.size(), 1u);
  const std::string line =
      Lines(ReadFile(DataPath("tokens/odd.jsonl")))[faults.begin()->first - 1];
  EXPECT_NE(line.find("\\ud800"), std::string::npos);
  EXPECT_EQ(faults.begin()->second, Reason::kBadJson);
}

// ------------------------------------------------- merging against a naive
// loop

// Byte-pair merging as the textbook states it: start from single bytes;
// while some adjacent pair is a token, merge the pair of lowest rank (the
// leftmost of equals).
std::vector<uint32_t> NaiveMerge(const BpeTokenizer& tokenizer,
                                 std::string_view piece) {
  std::vector<std::string> parts;
  for (const char c : piece) parts.emplace_back(1, c);
  while (true) {
    uint32_t best = BpeTokenizer::kNoRank;
    size_t at = 0;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      const uint32_t rank = tokenizer.Rank(parts[i] + parts[i + 1]);
      if (rank < best) {
        best = rank;
        at = i;
      }
    }
    if (best == BpeTokenizer::kNoRank) break;
    parts[at] += parts[at + 1];
    parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(at) + 1);
  }
  std::vector<uint32_t> ids(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) ids[i] = tokenizer.Rank(parts[i]);
  return ids;
}

// Pieces of every kind, short (merged in place) and long (merged by heap):
// windows of real text in many scripts, repeated characters, random bytes.
std::vector<std::string> RandomPieces() {
  std::mt19937 random(20240607);
  std::vector<std::string> pieces;
  const auto& texts = FixtureTexts();
  auto length = [&](size_t most) {
    return std::uniform_int_distribution<size_t>(1, most)(random);
  };
  for (int i = 0; i < 600; ++i) {
    const std::string& text =
        texts[std::uniform_int_distribution<size_t>(0, 1600)(random) %
              texts.size()]
            .text;
    const size_t size = std::min(text.size(), length(300));
    const size_t start =
        std::uniform_int_distribution<size_t>(0, text.size() - size)(random);
    pieces.push_back(text.substr(start, size));
  }
  for (const std::string unit : {"a", " ", "0", "ab", "\n", "é", "中", "😀"}) {
    for (const size_t n : {1, 2, 3, 7, 40, 95, 96, 97, 160}) {
      std::string piece;
      for (size_t k = 0; k < n; ++k) piece += unit;
      pieces.push_back(piece);
    }
  }
  for (int i = 0; i < 300; ++i) {
    std::string piece(length(200), '\0');
    for (char& c : piece) {
      c = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(random));
    }
    pieces.push_back(piece);
  }
  return pieces;
}

TEST(BpeTokenizerTest, MergesLikeTheNaiveLoopInPlaceAndByHeap) {
  const auto pieces = RandomPieces();
  size_t long_pieces = 0;
  for (const std::string& piece : pieces) {
    long_pieces += piece.size() > BpeTokenizer::kInPlaceMergeBytes;
  }
  ASSERT_GT(long_pieces, 100u);
  for (const char* encoding : {"cl100k_base", "o200k_base", "r50k_base"}) {
    const BpeTokenizer& tokenizer = Tokenizer(encoding);
    for (const std::string& piece : pieces) {
      std::vector<uint32_t> ids;
      tokenizer.MergePiece(piece, &ids);
      ASSERT_EQ(ids, NaiveMerge(tokenizer, piece))
          << encoding << ", piece of " << piece.size() << " bytes: \"" << piece
          << "\"";
    }
  }
}

TEST(BpeTokenizerTest, MergesAMegabytePieceWithoutQuadraticTime) {
  // One piece: the Brown corpus's ASCII letters without the spaces. Merging
  // it the quadratic way would take hours.
  std::string piece;
  for (size_t i = 0; piece.size() < (1 << 20); ++i) {
    for (const char c : FixtureTexts().at(i).text) {
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) piece += c;
    }
  }
  const BpeTokenizer& tokenizer = Tokenizer("cl100k_base");
  ASSERT_EQ(tokenizer.pretokenizer().Split(piece).size(), 1u);
  BpeCache cache;
  std::vector<uint32_t> ids;
  tokenizer.Encode(piece, &ids);
  EXPECT_EQ(tokenizer.Count(piece, cache), static_cast<int64_t>(ids.size()));
  std::string decoded;
  for (const uint32_t id : ids) decoded += tokenizer.Bytes(id);
  EXPECT_EQ(decoded, piece);
  // Far fewer tokens than bytes: the merges happened.
  EXPECT_LT(ids.size(), piece.size() / 2);
}

// ------------------------------------------------------------- the cache

TEST(BpeTokenizerTest, CacheAnswersRepeatsAndForgetsOnTokenizerSwitch) {
  const std::string text =
      "the cat sat on the mat; the cat sat on the mat again";
  const BpeTokenizer& cl100k = Tokenizer("cl100k_base");
  const BpeTokenizer& r50k = Tokenizer("r50k_base");
  BpeCache fresh_cl100k;
  BpeCache fresh_r50k;
  const int64_t cl100k_count = cl100k.Count(text, fresh_cl100k);
  const int64_t r50k_count = r50k.Count(text, fresh_r50k);
  EXPECT_GT(fresh_cl100k.hits(), 0u);  // the second "the cat sat ..."

  // One cache for both: each count must be its own tokenizer's. The text
  // has a piece the two count differently ("\n\n\n" is one cl100k token).
  const std::string mixed = text + "\n\n\n" + text;
  BpeCache fresh;
  const int64_t mixed_r50k = r50k.Count(mixed, fresh);
  BpeCache shared;
  EXPECT_EQ(cl100k.Count(text, shared), cl100k_count);
  EXPECT_EQ(r50k.Count(text, shared), r50k_count);
  EXPECT_NE(cl100k.Count(mixed, shared), mixed_r50k);
  EXPECT_EQ(r50k.Count(mixed, shared), mixed_r50k);
}

// ------------------------------------------------------------- loading

std::string Base64(std::string_view bytes) {
  static constexpr char kDigits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t group = 0;
    for (size_t k = 0; k < 3; ++k) {
      group = (group << 8) |
              (i + k < bytes.size() ? static_cast<uint8_t>(bytes[i + k]) : 0);
    }
    const size_t digits = std::min<size_t>(4, bytes.size() - i + 1);
    for (size_t k = 0; k < 4; ++k) {
      out += k < digits ? kDigits[(group >> (18 - 6 * k)) & 63] : '=';
    }
  }
  return out;
}

// An encoding JSON: the 256 single bytes (but `missing_byte`) ranked by
// value, then `merges` from rank 256, in tiktoken's compact form or as
// "TOKEN RANK" lines.
std::string EncodingJson(
    const std::vector<std::string>& merges, bool compact,
    std::string_view pattern = PatternString(PiecePattern::kCl100k),
    int missing_byte = -1) {
  std::string ranks = compact ? "! 0" : "";
  auto add = [&](const std::string& token, size_t rank) {
    ranks += compact ? " " + Base64(token)
                     : fmt::format("{} {}\n", Base64(token), rank);
  };
  for (int b = 0; b < 256; ++b) {
    if (b != missing_byte) add(std::string(1, static_cast<char>(b)), b);
  }
  for (size_t i = 0; i < merges.size(); ++i) add(merges[i], 256 + i);
  std::string json = "{\"pat_str\":";
  AppendJsonString(pattern, &json);
  json += ",\"special_tokens\":{\"<|endoftext|>\":999},\"bpe_ranks\":";
  AppendJsonString(ranks, &json);
  return json + "}";
}

std::vector<uint32_t> Ids(const BpeTokenizer& tokenizer,
                          std::string_view text) {
  std::vector<uint32_t> ids;
  tokenizer.Encode(text, &ids);
  return ids;
}

TEST(BpeTokenizerTest, ReadsBothRankFormatsAndMergesByRank) {
  for (const bool compact : {true, false}) {
    SCOPED_TRACE(compact ? "compact" : "lines");
    const BpeTokenizer tokenizer = BpeTokenizer::FromJson(
        EncodingJson({"ab", "cd", "abcd", "bc"}, compact), "test.json");
    EXPECT_EQ(tokenizer.vocab_size(), 260u);
    EXPECT_EQ(tokenizer.Rank("cd"), 257u);
    EXPECT_EQ(tokenizer.Bytes(258), "abcd");
    // A piece that is a token is one token, whatever merging would give.
    EXPECT_EQ(Ids(tokenizer, "abcd"), (std::vector<uint32_t>{258}));
    // "abdc": ab (256) merges; bd and dc are no tokens.
    EXPECT_EQ(Ids(tokenizer, "abdc"), (std::vector<uint32_t>{256, 'd', 'c'}));
    // "abcde": ab (256) before cd (257) before bc (259), which the first
    // merge took away; then ab + cd is abcd (258).
    EXPECT_EQ(Ids(tokenizer, "abcde"), (std::vector<uint32_t>{258, 'e'}));
    // Two pieces: "ab" and " cd" (the space is a byte of its own).
    EXPECT_EQ(Ids(tokenizer, "ab cd"), (std::vector<uint32_t>{256, ' ', 257}));
  }
}

std::string LoadError(const std::string& json) {
  try {
    BpeTokenizer::FromJson(json, "x.json");
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "no error";
}

TEST(BpeTokenizerTest, RejectsEncodingsItCannotReproduceWithTheReason) {
  EXPECT_EQ(LoadError(EncodingJson({}, true, "\\w+|\\s+")),
            "x.json: pat_str is none of the patterns the pre-tokenizer "
            "implements (cl100k_base, o200k_base, r50k_base)");
  EXPECT_EQ(LoadError(EncodingJson({}, true, PatternString(PiecePattern::kR50k),
                                   0x41)),
            "x.json: bpe_ranks has no token for the byte 0x41; every byte "
            "needs one");
  EXPECT_EQ(LoadError(EncodingJson({"ab", "ab"}, true)),
            "x.json: bpe_ranks lists the bytes of rank 256 twice (again as "
            "rank 257)");
  EXPECT_EQ(LoadError("{\"pat_str\":\"x\"}"),
            "x.json: no string field bpe_ranks; is it a tiktoken encoding "
            "JSON?");
  EXPECT_EQ(LoadError("{\"bpe_ranks\":\"! 0 QQ==\"}"),
            "x.json: no string field pat_str; is it a tiktoken encoding JSON?");
  std::string bad_base64 = EncodingJson({}, true);
  bad_base64.insert(bad_base64.rfind('"'), " QQ=");
  EXPECT_EQ(LoadError(bad_base64),
            "x.json: bpe_ranks: bad token \"QQ=\" for rank 256");
  std::string bad_offset = EncodingJson({}, true);
  bad_offset.replace(bad_offset.find("! 0"), 3, "! x");
  EXPECT_EQ(LoadError(bad_offset), "x.json: bpe_ranks: bad rank \"x\"");
  EXPECT_EQ(LoadError("{\"pat_str\": "),
            "x.json: not an encoding JSON: The JSON document has an improper "
            "structure: missing or superfluous commas, braces, missing keys, "
            "etc.");
}

TEST(BpeTokenizerTest, MissingFileNamesItAndTheFix) {
  try {
    BpeTokenizer::Load("/nonexistent/cl100k_base.json");
    FAIL() << "loaded a file that does not exist";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()),
              "/nonexistent/cl100k_base.json: cannot read the encoding (Error "
              "reading the file.); scripts/setup fetches it into models/");
  }
}

TEST(BpeTokenizerTest, NpmPackageEncodingsLoadWithTheirOwnPatterns) {
  EXPECT_EQ(Tokenizer("cl100k_base").pretokenizer().pattern(),
            PiecePattern::kCl100k);
  EXPECT_EQ(Tokenizer("o200k_base").pretokenizer().pattern(),
            PiecePattern::kO200k);
  EXPECT_EQ(Tokenizer("r50k_base").pretokenizer().pattern(),
            PiecePattern::kR50k);
  // Ranks as the npm package's encoders list them, special tokens excluded.
  EXPECT_EQ(Tokenizer("cl100k_base").vocab_size(), 100256u);
  EXPECT_EQ(Tokenizer("o200k_base").vocab_size(), 199998u);
  EXPECT_EQ(Tokenizer("r50k_base").vocab_size(), 50256u);
  // Special tokens are text: "<|endoftext|>" is several ordinary tokens.
  BpeCache cache;
  EXPECT_GT(Tokenizer("cl100k_base").Count("<|endoftext|>", cache), 1);
}

}  // namespace
}  // namespace needle
