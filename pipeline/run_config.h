#pragma once
// Everything a run is configured with, resolved and checked
// (stages/registry.h's LoadRunConfig builds it from a TOML file).

#include <memory>
#include <string>
#include <vector>

#include "pipeline/budget_options.h"
#include "pipeline/minhash.h"
#include "pipeline/options.h"
#include "pipeline/tiers.h"
#include "stages/stage.h"

namespace needle {

struct RunConfig {
  InputOptions input;
  OutputOptions output;
  PipelineOptions pipeline;
  std::vector<std::unique_ptr<Stage>> stages;  // in pipeline order
  DedupOptions dedup;
  std::unique_ptr<const MinHasher> hasher;  // set when dedup.enabled
  TierOptions tiers;
  std::vector<TierSpec> tier_specs;  // parsed tiers.tiers, when enabled
  std::string path;
  std::string resolved_toml;  // what `needle config show` prints
  std::string hash;           // of resolved_toml; guards resume
  // [corpus] and [budget], read last and kept out of resolved_toml and
  // hash: a new plan recomputes the report, never the shards.
  BudgetConfig budget;
};

}  // namespace needle
