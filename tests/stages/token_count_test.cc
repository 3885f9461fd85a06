#include "stages/token_count.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <thread>

#include "stages/registry.h"
#include "tests/test_util.h"

namespace needle {
namespace {

using testing::Decompressed;
using testing::Lines;
using testing::MakeTempDir;
using testing::SampleDir;
using testing::WriteFile;

TokenCount::Options OptionsFor(const std::string& encoding) {
  TokenCount::Options options;
  options.encoding = encoding;
  options.models_dir = std::string(NEEDLE_SOURCE_DIR) + "/models";
  return options;
}

const TokenCount& Cl100kStage() {
  static const auto* stage = new TokenCount(OptionsFor("cl100k_base"));
  return *stage;
}

int64_t Tokens(const Document& doc) {
  for (const Signal& signal : doc.signals) {
    if (signal.key == "tokens") return std::get<int64_t>(signal.value);
  }
  return -1;
}

std::vector<std::string> UdhrTexts() {
  std::vector<std::string> texts;
  simdjson::dom::parser parser;
  for (const std::string& line :
       Lines(Decompressed(SampleDir() + "/udhr.jsonl.gz"))) {
    std::string_view text;
    if (!parser.parse(line)["text"].get(text)) texts.emplace_back(text);
  }
  return texts;
}

TEST(TokenCountTest, RecordsTokensOnOkDocumentsAndRejectsNone) {
  std::vector<Document> docs(3);
  docs[0].text = "The jury said it did find that many of Georgia's laws";
  docs[1].text = "already rejected by an earlier stage";
  docs[1].reason = Reason::kTooShort;
  docs[2].text = "<|endoftext|>";
  TokenCount::Options options;
  options.count_rejected = false;
  TokenCount(options).Process(docs);

  BpeCache cache;
  const BpeTokenizer& tokenizer = Cl100kStage().tokenizer();
  ASSERT_EQ(docs[0].signals.size(), 1u);
  EXPECT_EQ(Tokens(docs[0]), tokenizer.Count(docs[0].text, cache));
  EXPECT_GT(Tokens(docs[0]), 5);
  EXPECT_TRUE(docs[1].signals.empty());
  EXPECT_EQ(docs[1].reason, Reason::kTooShort);
  EXPECT_EQ(Tokens(docs[2]), tokenizer.Count(docs[2].text, cache));
  for (const Document& doc : {docs[0], docs[2]}) EXPECT_TRUE(doc.ok());
}

TEST(TokenCountTest, CountsRejectedDocumentsButNeverQuarantinedOnes) {
  std::vector<Document> docs(2);
  docs[0].text = "already rejected by an earlier stage";
  docs[0].reason = Reason::kTooShort;
  docs[1].reason = Reason::kBadJson;  // never became a document
  Cl100kStage().Process(docs);
  BpeCache cache;
  ASSERT_EQ(docs[0].signals.size(), 1u);
  EXPECT_EQ(Tokens(docs[0]),
            Cl100kStage().tokenizer().Count(docs[0].text, cache));
  EXPECT_EQ(docs[0].reason, Reason::kTooShort);
  EXPECT_TRUE(docs[1].signals.empty());
}

TEST(TokenCountTest, EncodingOptionPicksTheFileAndItsPattern) {
  const TokenCount o200k(OptionsFor("o200k_base"));
  EXPECT_EQ(o200k.tokenizer().pretokenizer().pattern(), PiecePattern::kO200k);
  const TokenCount r50k(OptionsFor("r50k_base"));
  EXPECT_EQ(r50k.tokenizer().pretokenizer().pattern(), PiecePattern::kR50k);
  // GPT-2 has no token for a run of spaces; cl100k does.
  std::vector<Document> docs(2);
  docs[0].text = docs[1].text = "if x:\n        return y";
  r50k.Process(std::span(docs).first(1));
  Cl100kStage().Process(std::span(docs).last(1));
  EXPECT_GT(Tokens(docs[0]), Tokens(docs[1]));
}

TEST(TokenCountTest, MissingModelStopsTheStageWithThePath) {
  TokenCount::Options options;
  options.models_dir = "/nonexistent";
  try {
    const TokenCount stage(options);
    FAIL() << "built a stage without its encoding";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()),
              "/nonexistent/cl100k_base.json: cannot read the encoding (Error "
              "reading the file.); scripts/setup fetches it into models/");
  }
}

TEST(TokenCountTest, ConfigNamesTheStageTokensAndChecksTheEncoding) {
  const std::string dir = MakeTempDir();
  WriteFile(dir + "/run.toml",
            fmt::format("[pipeline]\nstages = [\"tokens\"]\n[tokens]\n"
                        "encoding = \"o200k_base\"\nmodels_dir = \"{}\"\n",
                        std::string(NEEDLE_SOURCE_DIR) + "/models"));
  const RunConfig run = LoadRunConfig(ConfigFile::Load(dir + "/run.toml"));
  ASSERT_EQ(run.stages.size(), 1u);
  EXPECT_EQ(run.stages[0]->name(), "tokens");

  WriteFile(dir + "/bad.toml",
            "[pipeline]\nstages = [\"tokens\"]\n[tokens]\n"
            "encoding = \"p50k_base\"\n");
  try {
    LoadRunConfig(ConfigFile::Load(dir + "/bad.toml"));
    FAIL() << "accepted an encoding that is not offered";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              dir +
                  "/bad.toml:4:12: expected one of cl100k_base, "
                  "o200k_base, r50k_base for encoding, got string "
                  "\"p50k_base\"");
  }
}

TEST(TokenCountTest, ThreadsSharingTheStageCountAsOneThreadDoes) {
  const std::vector<std::string> texts = UdhrTexts();
  ASSERT_GT(texts.size(), 100u);
  auto run = [&texts](std::vector<Document>* docs) {
    docs->resize(texts.size());
    for (size_t i = 0; i < texts.size(); ++i) (*docs)[i].text = texts[i];
    for (size_t i = 0; i < docs->size(); i += 16) {
      Cl100kStage().Process(
          std::span(*docs).subspan(i, std::min<size_t>(16, docs->size() - i)));
    }
  };
  std::vector<Document> alone;
  run(&alone);
  std::vector<std::vector<Document>> shared(4);
  std::vector<std::thread> threads;
  threads.reserve(shared.size());
  for (auto& docs : shared) threads.emplace_back(run, &docs);
  for (std::thread& thread : threads) thread.join();
  for (const auto& docs : shared) {
    for (size_t i = 0; i < docs.size(); ++i) {
      ASSERT_EQ(Tokens(docs[i]), Tokens(alone[i])) << "document " << i;
    }
  }
}

}  // namespace
}  // namespace needle
