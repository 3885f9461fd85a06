// Tiers through RunPipeline: the annotate, (dedup) and tier steps together,
// as `needle run` and `needle tune` use them.
#include "pipeline/tier_step.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>

#include "pipeline/dedup_step.h"
#include "pipeline/run.h"
#include "tests/pipeline/tier_fixture.h"
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
using namespace tier_fixture;  // NOLINT(google-build-using-namespace)

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
  const auto marker = fs::last_write_time(out + "/tiers/done/a.layout");
  RunPipeline(TierConfig(), RequestFor({in}, out, /*threads=*/2));
  EXPECT_EQ(TierOutputs(out), before);
  EXPECT_EQ(fs::last_write_time(out + "/tiers/done/a.layout"), marker);
}

// Every file a tier step may leave (.next and .tmp leftovers and staged/
// included, markers not), as its size and a hash of its contents: short
// enough to read in a failure message.
std::map<std::string, std::string> AllOutputs(const std::string& out) {
  std::map<std::string, std::string> files = TierOutputs(out);
  if (fs::exists(out + "/staged")) {
    for (const auto& entry :
         fs::recursive_directory_iterator(out + "/staged")) {
      const std::string path = entry.path().string();
      if (entry.is_regular_file()) {
        files[path.substr(out.size())] = ReadFile(path);
      }
    }
  }
  for (auto& [name, contents] : files) {
    contents = fmt::format("{} bytes, hash {:x}", contents.size(),
                           std::hash<std::string>()(contents));
  }
  return files;
}

std::vector<std::string> TunedTiers() {
  return {"automatic: reason == ok", "amateur: quality_score >= 0.7",
          "gold: keep_fraction 0.5 by quality_score"};
}

TEST(TierStepTest, TuningTwiceReadsTheTierFilesBackAndEqualsAFreshRun) {
  const std::string in = WriteShards();
  const std::string out = MakeTempDir();
  RunPipeline(TierConfig(), RequestFor({in}, out));
  // staged/ is gone, so both tunes read the documents from tiers/.
  ASSERT_FALSE(fs::exists(out + "/staged"));
  const std::vector<Shard> shards = FindShards({in});
  TierShards(TierConfig(TunedTiers()), shards, out, /*write=*/true);
  const std::vector<std::string> again = {
      "raw", "fine: quality_score >= 0.6 and lang in [en, de]"};
  TierShards(TierConfig(again), shards, out, /*write=*/true);

  const std::string fresh = MakeTempDir();
  RunPipeline(TierConfig(again), RequestFor({in}, fresh));
  EXPECT_EQ(AllOutputs(out), AllOutputs(fresh));
  EXPECT_EQ(ReadFile(out + "/tiers/funnel.json"),
            ReadFile(fresh + "/tiers/funnel.json"));
  // d1 0.9 en, d4 0.7 de, d5 0.95 en, d6 0.6 en | d7 0.8 en, d9 0.85 en,
  // d12 0.99 de (d11 0.55 is below 0.6, d8 0.4 is French).
  EXPECT_EQ(
      TierIds(out, "fine"),
      (std::vector<std::string>{"d1", "d4", "d5", "d6", "d7", "d9", "d12"}));
}

TEST(TierStepTest, ACopiedRunTunesFromItsTierFiles) {
  const std::string in = WriteShards();
  const std::string out = MakeTempDir();
  RunPipeline(TierConfig(), RequestFor({in}, out));
  // A plain copy gives every file a new time; the markers name the signal
  // files by their contents, so the tier files still count.
  const std::string copy = MakeTempDir() + "/copy";
  fs::copy(out, copy, fs::copy_options::recursive);
  TierShards(TierConfig(TunedTiers()), FindShards({in}), copy, /*write=*/true);
  const std::string fresh = MakeTempDir();
  RunPipeline(TierConfig(TunedTiers()), RequestFor({in}, fresh));
  EXPECT_EQ(AllOutputs(copy), AllOutputs(fresh));
}

TEST(TierStepTest, ARunWithAnotherConfigWritesFromItsOwnStagedFiles) {
  const std::string in = WriteShards();
  const std::string out = MakeTempDir();
  RunPipeline(TierConfig(), RequestFor({in}, out));
  // The same tiers and signals, but zstd 9: annotate is redone, and every
  // tier file must be recompressed from the new staged/, not kept.
  RunConfig level9 = TierConfig();
  level9.output.level = 9;
  level9.hash += "+level9";
  RunPipeline(level9, RequestFor({in}, out));
  const std::string fresh = MakeTempDir();
  RunPipeline(level9, RequestFor({in}, fresh));
  EXPECT_EQ(AllOutputs(out), AllOutputs(fresh));
}

TEST(TierStepTest, StagedIsGoneAfterACompleteRun) {
  const std::string in = WriteShards();
  const std::string out = MakeTempDir();
  RunPipeline(TierConfig({"raw", "good: quality_score >= 0.9"},
                         /*dedup=*/true),
              RequestFor({in}, out));
  EXPECT_FALSE(fs::exists(out + "/staged"));
  EXPECT_FALSE(fs::exists(out + "/kept"));
  // Every parsed document (12) is in exactly one tier file.
  EXPECT_EQ(TierIds(out, "raw").size() + TierIds(out, "good").size(), 12u);
}

TEST(TierStepTest, DocumentsInNoPlaceStayStagedForALaterTune) {
  const std::string in = WriteShards();
  const std::string out = MakeTempDir();
  RunConfig strict = TierConfig({"good: quality_score >= 0.9"});
  strict.output.write_rejected = false;
  RunPipeline(strict, RequestFor({in}, out));
  // d1, d5 and d12 are good; the other 9 are kept aside, not rejected.
  EXPECT_FALSE(fs::exists(out + "/rejected"));
  EXPECT_FALSE(fs::exists(out + "/staged/kept"));
  EXPECT_EQ(Ids(out + "/staged/below_first_tier/a.jsonl.zst"),
            (std::vector<std::string>{"d2", "d3", "d4", "d6"}));

  // A looser first tier lifts them out again, as a fresh run would.
  RunConfig loose = TierConfig({"good: quality_score >= 0.5"});
  loose.output.write_rejected = false;
  TierShards(loose, FindShards({in}), out, /*write=*/true);
  const std::string fresh = MakeTempDir();
  RunPipeline(loose, RequestFor({in}, fresh));
  EXPECT_EQ(AllOutputs(out), AllOutputs(fresh));
  EXPECT_EQ(Ids(out + "/staged/below_first_tier/a.jsonl.zst"),
            (std::vector<std::string>{"d2", "d3"}));
}

// The file's inode: a rewritten file is a new one renamed over the old.
ino_t Inode(const std::string& path) {
  struct stat status {};
  EXPECT_EQ(::stat(path.c_str(), &status), 0) << path;
  return status.st_ino;
}

TEST(TierStepTest, TuneRewritesOnlyTheFilesWhoseDocumentsChange) {
  const std::string in = WriteShards();
  const std::string out = MakeTempDir();
  RunPipeline(TierConfig(), RequestFor({in}, out));
  std::map<std::string, ino_t> before;
  for (const auto& [name, contents] : TierOutputs(out)) {
    before[name] = Inode(out + name);
  }
  // Only expert changes: keep_fraction 0.5 of amateur's 8, any language,
  // takes d12 (0.99), d5, d1 and d9 (0.85) instead of d1 and d5. So in
  // shard b, d9 and d12 move from amateur to expert; shard a is as it was.
  std::vector<std::string> tiers = DefaultTiers();
  tiers.back() = "expert: keep_fraction 0.5 by quality_score";
  TierShards(TierConfig(tiers), FindShards({in}), out, /*write=*/true);
  EXPECT_EQ(TierIds(out, "expert"),
            (std::vector<std::string>{"d1", "d5", "d9", "d12"}));
  for (const auto& [name, inode] : before) {
    const bool rewritten = name == "/tiers/amateur/b.jsonl.zst" ||
                           name.starts_with("/tiers/done/") ||
                           name == "/tiers/funnel.json";
    EXPECT_EQ(Inode(out + name) != inode, rewritten) << name;
  }
  const std::string fresh = MakeTempDir();
  RunPipeline(TierConfig(tiers), RequestFor({in}, fresh));
  EXPECT_EQ(AllOutputs(out), AllOutputs(fresh));
}

// The state a SIGKILL leaves in shard a between the commit point (the new
// marker written as tiers/done/a.next) and the end of the switch: the old
// files in place, the new ones as .next; `renamed` of them already moved.
void UndoSwitchAfterCommitPoint(const std::string& out,
                                const std::map<std::string, std::string>& old,
                                const std::string& old_marker, size_t renamed) {
  size_t moved = 0;
  for (const auto& [name, contents] : TierOutputs(out)) {
    if (!name.ends_with("/a.jsonl.zst")) continue;
    const auto before = old.find(name);
    if (before != old.end() && before->second == contents) continue;
    if (moved++ < renamed) continue;  // this one was renamed already
    fs::rename(out + name, out + name + ".next");
  }
  for (const auto& [name, contents] : old) {
    if (name.ends_with("/a.jsonl.zst") && !fs::exists(out + name)) {
      WriteFile(out + name, contents);
    }
  }
  fs::rename(out + "/tiers/done/a.layout", out + "/tiers/done/a.next");
  WriteFile(out + "/tiers/done/a.layout", old_marker);
}

TEST(TierStepTest, ASwitchCutShortAfterItsCommitPointIsFinished) {
  for (const size_t renamed : {0, 1}) {
    const std::string in = WriteShards();
    const std::string out = MakeTempDir();
    RunPipeline(TierConfig(), RequestFor({in}, out));
    const auto old = TierOutputs(out);
    const std::string old_marker = ReadFile(out + "/tiers/done/a.layout");
    const RunConfig tuned = TierConfig(TunedTiers());
    TierShards(tuned, FindShards({in}), out, /*write=*/true);
    const auto finished = AllOutputs(out);

    UndoSwitchAfterCommitPoint(out, old, old_marker, renamed);
    ASSERT_TRUE(fs::exists(out + "/tiers/amateur/a.jsonl.zst.next"));
    EXPECT_FALSE(TierShardsDone(tuned, FindShards({in}), out));
    TierShards(tuned, FindShards({in}), out, /*write=*/true);
    EXPECT_EQ(AllOutputs(out), finished)
        << "renamed before the kill: " << renamed;
    EXPECT_FALSE(fs::exists(out + "/tiers/done/a.next"));
  }
}

TEST(TierStepTest, AnAttemptCutShortBeforeItsCommitPointIsDiscarded) {
  const std::string in = WriteShards();
  const std::string out = MakeTempDir();
  RunPipeline(TierConfig(), RequestFor({in}, out));
  // Half-written new files of a tune that never wrote its marker.
  WriteFile(out + "/tiers/amateur/a.jsonl.zst.next", "half a frame");
  WriteFile(out + "/tiers/gold/a.jsonl.zst.next", "");
  WriteFile(out + "/tiers/raw/b.jsonl.zst.tmp", "cut short");
  const RunConfig tuned = TierConfig(TunedTiers());
  TierShards(tuned, FindShards({in}), out, /*write=*/true);
  const std::string fresh = MakeTempDir();
  RunPipeline(tuned, RequestFor({in}, fresh));
  EXPECT_EQ(AllOutputs(out), AllOutputs(fresh));
}

TEST(TierStepTest, AFinalizeRedoneAfterStagedIsGoneCountsTheSame) {
  const std::string in = WriteShards();
  // d13 repeats d9: dedup removes it from c's counts.
  WriteFile(in + "/c.jsonl", Doc(13, "0.85 en theta text nine"));
  const std::string out = MakeTempDir();
  const RunConfig config = TierConfig(DefaultTiers(), /*dedup=*/true);
  const RunRequest request = RequestFor({in}, out);
  RunPipeline(config, request);
  ASSERT_FALSE(fs::exists(out + "/staged"));
  const std::string record = ReadFile(out + "/final/c.json");
  EXPECT_NE(record.find("\"exact_duplicate\":1"), std::string::npos) << record;
  fs::remove(out + "/final/c.json");
  EXPECT_TRUE(RunFinalize(config, request, FindShards({in}), 2));
  EXPECT_EQ(ReadFile(out + "/final/c.json"), record);
}

}  // namespace
}  // namespace needle
