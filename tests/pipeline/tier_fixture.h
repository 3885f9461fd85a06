#pragma once
// Runs with tiers over two small shards whose texts carry their own
// signals ("<score> <lang> words..."), for the tier step's, tune's and
// review's tests.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "pipeline/run.h"
#include "pipeline/tiers.h"
#include "stages/stage.h"
#include "tests/test_util.h"

namespace needle::tier_fixture {

namespace fs = std::filesystem;
using testing::Decompressed;
using testing::Lines;
using testing::MakeTempDir;
using testing::ReadFile;
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

inline std::vector<std::string> DefaultTiers() {
  return {
      "raw",
      "automatic: reason == ok",
      "amateur: quality_score >= 0.5",
      "expert: keep_fraction 0.25 by quality_score and lang == en",
  };
}

inline RunConfig TierConfig(
    const std::vector<std::string>& tiers = DefaultTiers(),
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

inline std::string Doc(int id, std::string_view text) {
  return fmt::format(R"({{"id":"d{}","text":"{}"}})", id, text) + "\n";
}

// Two shards; 12 documents with known scores and languages.
inline std::string WriteShards() {
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
inline std::vector<std::string> Ids(const std::string& path) {
  std::vector<std::string> ids;
  if (!fs::exists(path)) return ids;
  simdjson::dom::parser parser;
  for (const std::string& line : Lines(Decompressed(path))) {
    ids.emplace_back(std::string_view(parser.parse(line)["id"]));
  }
  return ids;
}

inline std::vector<std::string> TierIds(const std::string& out,
                                        const char* tier) {
  std::vector<std::string> ids = Ids(out + "/tiers/" + tier + "/a.jsonl.zst");
  for (std::string& id : Ids(out + "/tiers/" + tier + "/b.jsonl.zst")) {
    ids.push_back(id);
  }
  return ids;
}

// Every file under OUT/tiers and OUT/rejected, with its contents.
inline std::map<std::string, std::string> TierOutputs(const std::string& out) {
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

}  // namespace needle::tier_fixture
