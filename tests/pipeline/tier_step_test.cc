// Tiers through RunPipeline: the annotate, (dedup) and tier steps together,
// as `needle run` and `needle tune` use them.
#include "pipeline/tier_step.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <map>

#include "pipeline/run.h"
#include "tests/test_util.h"

namespace needle {
namespace {

namespace fs = std::filesystem;
using testing::Decompressed;
using testing::Lines;
using testing::MakeTempDir;
using testing::ReadFile;
using testing::RequestFor;
using testing::WriteFile;

// Reads "<score> <lang> words..." from each text: a stand-in for the
// quality and language stages, so that the test controls every signal.
// Texts starting with "spam" are rejected as too_short.
class ScoreStage final : public Stage {
 public:
  std::string_view name() const override { return "score"; }
  void Process(std::span<Document> docs) const override {
    for (Document& doc : docs) {
      if (!doc.ok()) continue;
      if (doc.text.starts_with("spam")) {
        Reject(doc, Reason::kTooShort);
        continue;
      }
      const size_t space = doc.text.find(' ');
      const size_t space2 = doc.text.find(' ', space + 1);
      doc.signals.push_back(
          {"quality_score", std::stod(std::string(doc.text.substr(0, space)))});
      doc.signals.push_back({"lang", std::string(doc.text.substr(
                                         space + 1, space2 - space - 1))});
    }
  }
};

std::vector<std::string> DefaultTiers() {
  return {
      "raw",
      "automatic: reason == ok",
      "amateur: quality_score >= 0.5",
      "expert: keep_fraction 0.25 by quality_score and lang == en",
  };
}

RunConfig TierConfig(const std::vector<std::string>& tiers = DefaultTiers(),
                     bool dedup = false) {
  RunConfig config;
  config.pipeline.stages = {"score"};
  config.stages.push_back(std::make_unique<ScoreStage>());
  config.output.write_rejected = true;
  config.tiers.enabled = true;
  config.tiers.tiers = tiers;
  config.tier_specs = ParseTiers(tiers, [](size_t, size_t) { return "t"; });
  if (dedup) {
    config.dedup.enabled = true;
    config.hasher = std::make_unique<MinHasher>(config.dedup);
  }
  std::string hash = "tiers";
  for (const std::string& tier : tiers) hash += "|" + tier;
  config.hash = hash + (dedup ? "+dedup" : "");
  return config;
}

std::string Doc(int id, std::string_view text) {
  return fmt::format(R"({{"id":"d{}","text":"{}"}})", id, text) + "\n";
}

// Two shards; 12 documents with known scores and languages.
std::string WriteShards() {
  std::string dir = MakeTempDir();
  WriteFile(dir + "/a.jsonl",
            Doc(1, "0.9 en alpha text one") + Doc(2, "0.2 en beta text two") +
                Doc(3, "spam spam spam") + Doc(4, "0.7 de gamma text four") +
                Doc(5, "0.95 en delta text five") + "not json\n" +
                Doc(6, "0.6 en epsilon text six"));
  WriteFile(dir + "/b.jsonl", Doc(7, "0.8 en zeta text seven") +
                                  Doc(8, "0.4 fr eta text eight") +
                                  Doc(9, "0.85 en theta text nine") +
                                  Doc(10, "spam again and again") +
                                  Doc(11, "0.55 en iota text eleven") +
                                  Doc(12, "0.99 de kappa text twelve"));
  return dir;
}

// Document ids in a (compressed) output file, in order; none when absent.
std::vector<std::string> Ids(const std::string& path) {
  std::vector<std::string> ids;
  if (!fs::exists(path)) return ids;
  simdjson::dom::parser parser;
  for (const std::string& line : Lines(Decompressed(path))) {
    ids.emplace_back(std::string_view(parser.parse(line)["id"]));
  }
  return ids;
}

std::vector<std::string> TierIds(const std::string& out, const char* tier) {
  std::vector<std::string> ids = Ids(out + "/tiers/" + tier + "/a.jsonl.zst");
  for (std::string& id : Ids(out + "/tiers/" + tier + "/b.jsonl.zst")) {
    ids.push_back(id);
  }
  return ids;
}

TEST(TierStepTest, EachDocumentIsWrittenOnceInItsHighestTier) {
  const std::string in = WriteShards();
  const std::string out = MakeTempDir();
  RunPipeline(TierConfig(), RequestFor({in}, out));
  // raw only: the stage's rejects. automatic: ok but quality below 0.5.
  // amateur: 0.5 and up. expert: of amateur's 8 documents, 0.25 x 8 = 2,
  // the best English ones: d5 (0.95) and d1 (0.9); d12 (0.99) is German.
  EXPECT_EQ(TierIds(out, "raw"), (std::vector<std::string>{"d3", "d10"}));
  EXPECT_EQ(TierIds(out, "automatic"), (std::vector<std::string>{"d2", "d8"}));
  EXPECT_EQ(TierIds(out, "amateur"),
            (std::vector<std::string>{"d4", "d6", "d7", "d9", "d11", "d12"}));
  EXPECT_EQ(TierIds(out, "expert"), (std::vector<std::string>{"d1", "d5"}));
  // Nothing is below the first tier, so rejected/ stays empty; the bad
  // line is quarantined as ever.
  EXPECT_FALSE(fs::exists(out + "/rejected/a.jsonl.zst"));
  EXPECT_FALSE(fs::exists(out + "/kept/a.jsonl.zst"));
  EXPECT_TRUE(fs::exists(out + "/quarantine/a.jsonl"));

  const std::string line =
      Lines(Decompressed(out + "/tiers/expert/a.jsonl.zst"))[0];
  EXPECT_NE(line.find(R"("needle":{"tier":"expert","signals":{)"),
            std::string::npos)
      << line;
  const std::string raw =
      Lines(Decompressed(out + "/tiers/raw/a.jsonl.zst"))[0];
  EXPECT_NE(raw.find(R"("needle":{"tier":"raw","reason":"too_short")"),
            std::string::npos)
      << raw;
}

TEST(TierStepTest, RunJsonCarriesTheFunnel) {
  const std::string in = WriteShards();
  const std::string out = MakeTempDir();
  RunPipeline(TierConfig(), RequestFor({in}, out));
  simdjson::dom::parser parser;
  const simdjson::dom::element run = parser.load(out + "/run.json");
  const simdjson::dom::array tiers = run["tiers"];
  std::vector<std::pair<std::string, int64_t>> docs;
  for (simdjson::dom::element tier : tiers) {
    docs.emplace_back(std::string_view(tier["name"]), int64_t(tier["docs"]));
  }
  EXPECT_EQ(
      docs,
      (std::vector<std::pair<std::string, int64_t>>{
          {"raw", 12}, {"automatic", 10}, {"amateur", 8}, {"expert", 2}}));
  // Why the 8 amateur documents did not become expert: 2 not English,
  // then 4 of the 6 English ones beyond the 2 the fraction allows.
  const simdjson::dom::array fell = tiers.at(3)["fell_out"];
  EXPECT_EQ(std::string_view(fell.at(0)["condition"]), "lang == en");
  EXPECT_EQ(int64_t(fell.at(0)["docs"]), 2);
  EXPECT_EQ(int64_t(fell.at(1)["docs"]), 4);
  EXPECT_DOUBLE_EQ(double(fell.at(1)["share"]), 0.5);
  EXPECT_EQ(int64_t(tiers.at(3)["languages"]["en"]["docs"]), 2);
  EXPECT_EQ(int64_t(run["below_first_tier"]["docs"]), 0);
}

TEST(TierStepTest, DocumentsBelowTheFirstTierGoToRejectedWithTheirReason) {
  const std::string in = WriteShards();
  const std::string out = MakeTempDir();
  RunPipeline(TierConfig({"good: quality_score >= 0.9"}),
              RequestFor({in}, out));
  EXPECT_EQ(TierIds(out, "good"),
            (std::vector<std::string>{"d1", "d5", "d12"}));
  const std::vector<std::string> rejected =
      Lines(Decompressed(out + "/rejected/a.jsonl.zst"));
  ASSERT_EQ(rejected.size(), 4u);  // d2, d3, d4, d6
  EXPECT_NE(rejected[0].find(R"("reason":"below_first_tier","stage":"tiers")"),
            std::string::npos);
  EXPECT_NE(rejected[1].find(R"("reason":"too_short")"), std::string::npos);
}

TEST(TierStepTest, DedupFatesAndCountsFeedTheTiers) {
  const std::string in = WriteShards();
  // d13 repeats d9 exactly: dedup removes it, so it stays in raw.
  WriteFile(in + "/c.jsonl", Doc(13, "0.85 en theta text nine"));
  const std::string out = MakeTempDir();
  RunPipeline(TierConfig({"raw", "unique: reason == ok and dup_count <= 1",
                          "kept: reason == ok"},
                         /*dedup=*/true),
              RequestFor({in}, out));
  EXPECT_EQ(Ids(out + "/tiers/raw/c.jsonl.zst"),
            (std::vector<std::string>{"d13"}));
  const std::string line = Decompressed(out + "/tiers/raw/c.jsonl.zst");
  EXPECT_NE(
      line.find(
          R"("reason":"exact_duplicate","stage":"dedup","duplicate_of":"d9")"),
      std::string::npos)
      << line;
  // d9's cluster has two members: not "unique", so not "kept" either.
  EXPECT_EQ(Ids(out + "/tiers/raw/b.jsonl.zst"),
            (std::vector<std::string>{"d9", "d10"}));
  EXPECT_FALSE(fs::exists(out + "/kept/a.jsonl.zst"));
}

// Every file under OUT/tiers and OUT/rejected, with its contents.
std::map<std::string, std::string> TierOutputs(const std::string& out) {
  std::map<std::string, std::string> files;
  for (const char* dir : {"/tiers", "/rejected"}) {
    if (!fs::exists(out + dir)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(out + dir)) {
      const std::string path = entry.path().string();
      if (!entry.is_regular_file() ||
          path.find("/done/") != std::string::npos) {
        continue;
      }
      files[path.substr(out.size())] = ReadFile(path);
    }
  }
  return files;
}

TEST(TierStepTest, TuneEqualsAFullRunWithTheNewTiers) {
  const std::string in = WriteShards();
  const std::string first = MakeTempDir();
  RunPipeline(TierConfig(), RequestFor({in}, first));

  const std::vector<std::string> tuned = {
      "automatic: reason == ok", "amateur: quality_score >= 0.7",
      "gold: keep_fraction 0.5 by quality_score"};
  const RunConfig tune = TierConfig(tuned);
  const std::vector<Shard> shards = FindShards({in});
  const TierFunnel funnel = TierShards(tune, shards, first, /*write=*/true);

  const std::string fresh = MakeTempDir();
  RunPipeline(TierConfig(tuned), RequestFor({in}, fresh));
  EXPECT_EQ(TierOutputs(first), TierOutputs(fresh));
  EXPECT_EQ(ReadFile(first + "/tiers/funnel.json"),
            ReadFile(fresh + "/tiers/funnel.json"));
  EXPECT_EQ(funnel.tiers.at(2).totals.docs, 3u);  // of 6 at 0.7 or more
  EXPECT_FALSE(fs::exists(first + "/tiers/expert/a.jsonl.zst"));
}

TEST(TierStepTest, ARerunLeavesEveryOutputAsItWas) {
  const std::string in = WriteShards();
  const std::string out = MakeTempDir();
  RunPipeline(TierConfig(), RequestFor({in}, out));
  const auto before = TierOutputs(out);
  const auto marker = fs::last_write_time(out + "/tiers/done/a.txt");
  RunPipeline(TierConfig(), RequestFor({in}, out, /*threads=*/2));
  EXPECT_EQ(TierOutputs(out), before);
  EXPECT_EQ(fs::last_write_time(out + "/tiers/done/a.txt"), marker);
}

}  // namespace
}  // namespace needle
