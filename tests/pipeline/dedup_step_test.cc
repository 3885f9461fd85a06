// Dedup across a whole run, through RunPipeline: the annotate, cluster and
// finalize steps together, as `needle run` uses them.
#include "pipeline/dedup_step.h"

#include <gtest/gtest.h>

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
using testing::SampleDir;
using testing::WriteFile;

RunConfig DedupConfig(const std::string& keep = "first") {
  RunConfig config;
  config.pipeline.stages.clear();
  config.output.write_rejected = true;
  config.dedup.enabled = true;
  config.dedup.keep = keep;
  config.hasher = std::make_unique<MinHasher>(config.dedup);
  config.hash = "dedup-test";
  return config;
}

// Replaces every `stride`-th word of a document's text field, leaving its
// JSON otherwise as it was: a near duplicate of the original.
std::string Perturb(const std::string& line, size_t stride) {
  const size_t start = line.find("\"text\":\"") + 8;
  std::string out = line.substr(0, start);
  size_t words = 0;
  for (size_t i = start; i < line.size(); ++i) {
    if (line[i] == ' ' && ++words % stride == 0) {
      out += " zzyzx";
    }
    out += line[i];
  }
  return out;
}

std::string WithId(const std::string& line, const std::string& id) {
  const size_t start = line.find("\"id\":\"") + 6;
  const size_t end = line.find('"', start);
  return line.substr(0, start) + id + line.substr(end);
}

// Three shards of Brown documents: b repeats 20 of a's documents exactly
// (with new ids), c holds near duplicates of 20 others (one word in a
// hundred added: word 5-gram Jaccard about 0.91, found with probability
// 0.9999 at 14 bands x 8 rows) and 20 documents of its own.
std::string MakeCorpus() {
  const auto brown = Lines(ReadFile(SampleDir() + "/brown.jsonl"));
  std::string a, b, c;
  for (size_t i = 0; i < 60; ++i) a += brown[i] + "\n";
  for (size_t i = 0; i < 20; ++i) {
    b += WithId(brown[i], "copy-" + std::to_string(i)) + "\n";
  }
  for (size_t i = 60; i < 80; ++i) b += brown[i] + "\n";
  for (size_t i = 20; i < 40; ++i) {
    c += WithId(Perturb(brown[i], 100), "near-" + std::to_string(i)) + "\n";
  }
  for (size_t i = 80; i < 100; ++i) c += brown[i] + "\n";
  std::string dir = MakeTempDir();
  WriteFile(dir + "/a.jsonl", a);
  WriteFile(dir + "/b.jsonl", b);
  WriteFile(dir + "/c.jsonl", c);
  return dir;
}

uint64_t CountOf(const ShardCounters& counters, Reason reason) {
  return counters.reasons[static_cast<int>(reason)];
}

std::map<std::string, std::string> OutputFiles(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const char* sub : {"kept", "rejected"}) {
    if (!fs::exists(dir + "/" + sub)) continue;
    for (const auto& entry : fs::directory_iterator(dir + "/" + sub)) {
      files[std::string(sub) + "/" + entry.path().filename().string()] =
          Decompressed(entry.path().string());
    }
  }
  return files;
}

TEST(DedupStepTest, RemovesExactAndNearDuplicatesAcrossShards) {
  const std::string corpus = MakeCorpus();
  const std::string out = MakeTempDir();
  const RunOutcome outcome =
      RunPipeline(DedupConfig(), RequestFor({corpus}, out));
  const ShardCounters& t = outcome.totals;
  EXPECT_EQ(CountOf(t, Reason::kExactDuplicate), 20u);
  EXPECT_EQ(CountOf(t, Reason::kNearDuplicate), 20u);
  EXPECT_EQ(t.docs, 140u);
  EXPECT_EQ(t.kept + t.rejected, t.docs);  // nothing lost, nothing twice
  EXPECT_EQ(t.kept, 100u);

  // The first copy in input order is kept and knows its cluster's size.
  const auto kept_a = Lines(Decompressed(out + "/kept/a.jsonl.zst"));
  ASSERT_EQ(kept_a.size(), 60u);
  EXPECT_NE(kept_a[0].find("\"dup_count\":2}"), std::string::npos) << kept_a[0];
  EXPECT_NE(kept_a[59].find("\"dup_count\":1}"), std::string::npos);
  const auto rejected_b = Lines(Decompressed(out + "/rejected/b.jsonl.zst"));
  ASSERT_EQ(rejected_b.size(), 20u);
  EXPECT_NE(
      rejected_b[0].find(
          R"("needle":{"reason":"exact_duplicate","stage":"dedup","duplicate_of":"brown-ca01",)"),
      std::string::npos)
      << rejected_b[0];
  const auto rejected_c = Lines(Decompressed(out + "/rejected/c.jsonl.zst"));
  ASSERT_EQ(rejected_c.size(), 20u);
  EXPECT_NE(rejected_c[0].find(R"("reason":"near_duplicate")"),
            std::string::npos);
}

// Labels every document "en", as the lang stage would.
class EnglishEverywhere final : public Stage {
 public:
  std::string_view name() const override { return "lang"; }
  void Process(std::span<Document> docs) const override {
    for (Document& doc : docs) {
      if (doc.ok()) doc.signals.push_back({"lang", std::string("en")});
    }
  }
};

TEST(DedupStepTest, RemovedDocumentsLeaveTheirLanguagesKeptCounts) {
  RunConfig config = DedupConfig();
  config.stages.push_back(std::make_unique<EnglishEverywhere>());
  const RunOutcome outcome =
      RunPipeline(config, RequestFor({MakeCorpus()}, MakeTempDir()));
  const LanguageCounts& english = outcome.totals.languages.at("en");
  EXPECT_EQ(english.docs, 140u);
  EXPECT_EQ(english.kept_docs, outcome.totals.kept);
  EXPECT_EQ(english.kept_docs, 100u);
  EXPECT_LT(english.kept_bytes, english.bytes);
}

TEST(DedupStepTest, StagedLinesMayBeLongerThanMaxLineBytes) {
  const std::string corpus = MakeCorpus();
  size_t longest = 0;
  for (const char* name : {"/a.jsonl", "/b.jsonl", "/c.jsonl"}) {
    for (const std::string& line : Lines(ReadFile(corpus + name))) {
      longest = std::max(longest, line.size());
    }
  }
  RunConfig config = DedupConfig();
  config.input.max_line_bytes = longest;  // the needle object goes past it
  const RunOutcome outcome =
      RunPipeline(config, RequestFor({corpus}, MakeTempDir()));
  EXPECT_EQ(outcome.totals.quarantined, 0u);
  EXPECT_EQ(outcome.totals.kept, 100u);
}

TEST(DedupStepTest, SameOutputsAtOneAndTwoThreads) {
  const std::string corpus = MakeCorpus();
  const std::string one = MakeTempDir();
  const std::string two = MakeTempDir();
  RunPipeline(DedupConfig(), RequestFor({corpus}, one, 1));
  RunPipeline(DedupConfig(), RequestFor({corpus}, two, 2));
  EXPECT_EQ(OutputFiles(one), OutputFiles(two));
}

TEST(DedupStepTest, KeepLongestIsIndependentOfShardOrder) {
  const std::string corpus = MakeCorpus();
  const std::string forward = MakeTempDir();
  const std::string backward = MakeTempDir();
  RunPipeline(DedupConfig("longest"),
              RequestFor({corpus + "/a.jsonl", corpus + "/b.jsonl",
                          corpus + "/c.jsonl"},
                         forward));
  RunPipeline(DedupConfig("longest"),
              RequestFor({corpus + "/c.jsonl", corpus + "/b.jsonl",
                          corpus + "/a.jsonl"},
                         backward));
  const auto a = OutputFiles(forward);
  const auto b = OutputFiles(backward);
  // The near duplicates are longer (words added): kept whatever the order.
  EXPECT_EQ(a.at("kept/c.jsonl.zst"), b.at("kept/c.jsonl.zst"));
  EXPECT_EQ(Lines(a.at("kept/c.jsonl.zst")).size(), 40u);
  // Exact copies tie on length; the first in input order wins the tie.
  EXPECT_EQ(Lines(a.at("kept/a.jsonl.zst")).size(), 40u);
  EXPECT_EQ(Lines(b.at("kept/a.jsonl.zst")).size(), 20u);
}

TEST(DedupStepTest, SpillingToDiskGivesTheSameResult) {
  const std::string corpus = MakeCorpus();
  const std::string in_memory = MakeTempDir();
  const std::string spilled = MakeTempDir();
  RunPipeline(DedupConfig(), RequestFor({corpus}, in_memory));
  RunConfig tiny = DedupConfig();
  tiny.dedup.memory_limit_bytes = 4096;  // a run file every few documents
  RunPipeline(tiny, RequestFor({corpus}, spilled));
  EXPECT_EQ(OutputFiles(in_memory), OutputFiles(spilled));
}

TEST(DedupStepTest, ResumeRedoesOnlyWhatIsMissing) {
  const std::string corpus = MakeCorpus();
  const std::string out = MakeTempDir();
  RunPipeline(DedupConfig(), RequestFor({corpus}, out));
  const auto complete = OutputFiles(out);

  // A crash during finalize: one shard's final outputs and record gone.
  fs::remove(out + "/final/b.json");
  WriteFile(out + "/kept/b.jsonl.zst", "half");
  RunPipeline(DedupConfig(), RequestFor({corpus}, out));
  EXPECT_EQ(OutputFiles(out), complete);

  // A crash during clustering: no marker, so everything after it reruns.
  fs::remove(out + "/dedup/done.txt");
  fs::remove(out + "/dedup/decisions/c.bin");
  RunPipeline(DedupConfig(), RequestFor({corpus}, out));
  EXPECT_EQ(OutputFiles(out), complete);

  // An annotate shard redone (its record gone): dedup follows.
  fs::remove(out + "/done/a.json");
  const RunOutcome again =
      RunPipeline(DedupConfig(), RequestFor({corpus}, out));
  EXPECT_EQ(again.shards_resumed, 2u);
  EXPECT_EQ(OutputFiles(out), complete);
}

}  // namespace
}  // namespace needle
