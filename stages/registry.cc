#include "stages/registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <span>

#include "filters/c4.h"
#include "filters/doc_length.h"
#include "filters/fineweb.h"
#include "filters/gopher_quality.h"
#include "filters/gopher_repetition.h"
#include "filters/pii.h"
#include "filters/url_filter.h"
#include "stages/lang_id.h"
#include "stages/quality.h"
#include "stages/quality_train.h"
#include "stages/token_count.h"

namespace needle {
namespace {

template <class S>
std::unique_ptr<Stage> Make(ConfigFile& config, const StageInfo& info,
                            bool build) {
  typename S::Options options;
  config.Read(info.name, info.description, &options);
  if (!build) return nullptr;
  return std::make_unique<S>(options);
}

constexpr StageInfo kStages[] = {
    {"c4", "C4 line removal and page rules (Raffel et al. 2020), datatrove's",
     &Make<C4Quality>},
    {"doc_length", "Length signals (bytes, chars, words, lines) and bounds",
     &Make<DocLength>},
    {"fineweb", "FineWeb line rules (Penedo et al. 2024), datatrove's",
     &Make<FinewebQuality>},
    {"gopher_quality", "Gopher document quality rules (Rae et al. 2021)",
     &Make<GopherQuality>},
    {"gopher_repetition",
     "Gopher repeated lines, paragraphs and n-grams (Rae et al. 2021)",
     &Make<GopherRepetition>},
    {"lang", "Language ID with fastText lid.176, as the fastText CLI predicts",
     &Make<LangId>},
    {"pii", "Email and IP addresses counted, optionally replaced (datatrove)",
     &Make<Pii>},
    {"quality", "Probability of high quality from a fastText classifier (DCLM)",
     &Make<Quality>},
    {"tokens", "Token counts, exactly as OpenAI's tiktoken counts them",
     &Make<TokenCount>},
    {"url_filter", "Blocks documents by their url's domain and by URL patterns",
     &Make<UrlFilter>},
};

constexpr const char* kFixedSections[] = {
    "input", "output", "pipeline", "dedup", "tiers", "corpus", "budget"};

void ReadRunSections(ConfigFile& config, RunConfig* run) {
  config.Read("input", "Reading JSONL shards", &run->input);
  config.Read("output", "Writing kept and rejected shards", &run->output);
  config.Read("pipeline", "Which stages run, and when a run fails",
              &run->pipeline);
  config.Read("dedup",
              "Exact and MinHash near-duplicate removal across the whole run",
              &run->dedup);
  config.Read("tiers", "Emu-style tiers: a funnel of ever stricter sets",
              &run->tiers);
}

// "file:line:col" of a character within the index-th string of
// [section].key: the string's own place shifted past its opening quote.
std::string WhereInString(const ConfigFile& config, std::string_view section,
                          std::string_view key, size_t index, size_t column) {
  std::string at = config.Where(section, key, index);
  const size_t colon = at.rfind(':');
  const size_t line_colon =
      colon == std::string::npos ? colon : at.rfind(':', colon - 1);
  if (line_colon == std::string::npos) return at;
  const size_t start = std::stoul(at.substr(colon + 1));
  return fmt::format("{}:{}", at.substr(0, colon), start + 1 + column);
}

}  // namespace

std::span<const StageInfo> RegisteredStages() { return kStages; }

const StageInfo* FindStage(std::string_view name) {
  for (const StageInfo& info : kStages) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

RunConfig LoadRunConfig(ConfigFile config, bool build_stages) {
  RunConfig run;
  ReadRunSections(config, &run);
  if (run.dedup.enabled) run.hasher = std::make_unique<MinHasher>(run.dedup);
  if (run.tiers.enabled) {
    run.tier_specs =
        ParseTiers(run.tiers.tiers, [&](size_t index, size_t column) {
          return WhereInString(config, "tiers", "tiers", index, column);
        });
    if (run.tier_specs.empty()) {
      throw ConfigError(fmt::format("{}: expected at least one tier",
                                    config.Where("tiers", "tiers")));
    }
  }
  if (run.output.codec == "gzip" && run.output.level > 9) {
    throw ConfigError(fmt::format(
        "{}: expected an integer from 1 to 9 for level with codec gzip, got {}",
        config.Where("output", "level"), run.output.level));
  }

  std::vector<std::string> stage_names;
  for (const StageInfo& info : kStages) stage_names.emplace_back(info.name);
  const auto& wanted = run.pipeline.stages;
  for (size_t i = 0; i < wanted.size(); ++i) {
    const StageInfo* info = FindStage(wanted[i]);
    if (info == nullptr) {
      std::string message =
          fmt::format("{}: unknown stage '{}'",
                      config.Where("pipeline", "stages", i), wanted[i]);
      const std::string suggestion = ClosestName(wanted[i], stage_names);
      if (!suggestion.empty()) {
        message += fmt::format("; did you mean '{}'?", suggestion);
      }
      throw ConfigError(message + " (see `needle stages list`)");
    }
    const auto earlier = std::span(wanted).first(i);
    if (std::find(earlier.begin(), earlier.end(), wanted[i]) != earlier.end()) {
      throw ConfigError(fmt::format("{}: stage '{}' is listed twice",
                                    config.Where("pipeline", "stages", i),
                                    wanted[i]));
    }
    std::unique_ptr<Stage> stage = info->make(config, *info, build_stages);
    if (stage) run.stages.push_back(std::move(stage));
  }

  run.path = config.path();
  run.resolved_toml = config.resolved_toml();
  run.hash = config.hash();
  // After the hash: a new plan recomputes the report, never the shards.
  run.budget = ReadBudgetConfig(config);

  std::vector<std::string> known(std::begin(kFixedSections),
                                 std::end(kFixedSections));
  known.insert(known.end(), stage_names.begin(), stage_names.end());
  // Sections a run leaves unread: stages not in the pipeline, and
  // [quality_train], which `needle quality train --config` reads.
  std::vector<std::string> unread = stage_names;
  unread.emplace_back(kQualityTrainSection);
  known.emplace_back(kQualityTrainSection);
  config.CheckNoUnknownSections(unread, known);
  return run;
}

std::string DefaultConfigToml() {
  ConfigFile config = ConfigFile::Empty();
  RunConfig run;
  ReadRunSections(config, &run);
  if (run.dedup.enabled) run.hasher = std::make_unique<MinHasher>(run.dedup);
  for (const StageInfo& info : kStages) {
    info.make(config, info, /*build=*/false);
  }
  QualityTrainOptions quality_train;
  ReadQualityTrainSection(config, &quality_train);
  ReadBudgetConfig(config);
  return "# Needle configuration: every key with its default.\n"
         "# Generated by `needle config defaults`; a test keeps this file "
         "equal to it.\n\n" +
         config.resolved_toml();
}

}  // namespace needle
