#pragma once
// `needle tune`: re-applies tiers to a finished run from its stored signals
// (pipeline/signal_store.h), without re-reading text or re-running any
// stage, dedup or tokenization.
//
// A new config may change [tiers] and [budget] only; everything else decides
// which documents exist and what was measured on them, so any other change
// needs `needle run`. With that, tune's outputs equal a full re-run's.

#include <string>

#include "pipeline/run_config.h"

namespace needle {

struct TuneRequest {
  std::string run_dir;  // OUT of a run made with [tiers] enabled
  bool write = false;   // rewrite tiers/, funnel.json and run.json
  // "TIER.SIGNAL=FROM:TO:STEP": print the funnel at each threshold value.
  std::string sweep;
};

// Returns what to print. Throws std::runtime_error (or ConfigError) with
// the reason when the run cannot be tuned with `config`.
std::string TuneRun(const RunConfig& config, const TuneRequest& request);

}  // namespace needle
