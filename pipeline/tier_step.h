#pragma once
// The tier step: after annotate (and dedup's cluster step), sorts every
// parsed document into its highest tier (pipeline/tiers.h) and writes it
// once, to OUT/tiers/<tier>/<stem>.jsonl.zst, or to OUT/rejected/ when it
// is below the first tier (with write_rejected).
//
// Two parts, which meet through files like the dedup steps:
//  1. assign (global): every shard's stored signals (pipeline/signal_store.h)
//     with dedup's decisions merged in (reason, dup_count) form one table;
//     the tiers are applied to it, keep_fraction ranks over the whole run.
//  2. write (per shard, pipeline/tier_write.h): each document goes to its
//     place with needle.tier set, read from staged/ the first time (which
//     is then deleted) and from the places themselves after that.
// `needle tune` re-runs both from the stored signals with another config,
// never touching the text stages; only places whose documents change are
// rewritten.

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "pipeline/run_config.h"
#include "pipeline/shard.h"
#include "pipeline/tiers.h"

namespace needle {

struct TierTotals {
  uint64_t docs = 0;
  uint64_t bytes = 0;   // text bytes
  uint64_t tokens = 0;  // the tokens stage's counts (0 without it)
};

struct TierFunnel {
  struct Tier {
    std::string name;
    std::string definition;  // the config line
    TierTotals totals;       // every document in this tier or above
    std::map<std::string, TierTotals> languages;  // by the lang signal
    // From the tier before: documents not taken, by the first condition
    // they failed.
    std::vector<std::pair<std::string, uint64_t>> fell_out;
    double cutoff = 0;  // keep_fraction's last score taken
    bool has_cutoff = false;
  };
  std::vector<Tier> tiers;
  TierTotals below_first;  // parsed documents in no tier
  std::map<std::string, uint64_t> below_first_reasons;
  // Signals the tiers read that no document of the run carries: almost
  // always a stage missing from [pipeline].stages, or a typo.
  std::vector<std::string> unseen_signals;
};

// Steps 1 and 2 for `shards` of the run in `out_dir`. With `write` false,
// only computes the funnel (a dry `needle tune`).
TierFunnel TierShards(const RunConfig& config, std::span<const Shard> shards,
                      const std::string& out_dir, bool write);

// Whether TierShards(..., write=true) is done for `shards` with this config
// and these stored signals: its markers, read without re-reading the
// signals (a re-submission and `needle status` ask it).
bool TierShardsDone(const RunConfig& config, std::span<const Shard> shards,
                    const std::string& out_dir);

// The funnel at each value of one tier's threshold: the first condition of
// tier `tier` on `signal` (its number, or keep_fraction's fraction) set to
// each of `values` in turn. Reads the stored signals once.
std::vector<TierFunnel> SweepTiers(const RunConfig& config,
                                   std::span<const Shard> shards,
                                   const std::string& out_dir,
                                   std::string_view tier,
                                   std::string_view signal,
                                   const std::vector<double>& values);

// The funnel as JSON: {"tiers":[...],"below_first_tier":{...}}.
std::string TierFunnelJson(const TierFunnel& funnel);
// The funnel as a plain-text table, for the terminal.
std::string TierFunnelText(const TierFunnel& funnel);

}  // namespace needle
