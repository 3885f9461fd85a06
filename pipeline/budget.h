#pragma once
// The data-budget projection: how many unique tokens each planned training
// run needs, how many each tier supplies on a date, and when demand
// overtakes supply. Pure arithmetic on numbers and day counts (no I/O, no
// config), so that every result can be worked out by hand; pipeline/report
// feeds it from run.json and [budget].
//
// The rules, and where they come from:
//  - Training compute C = 6 N D FLOPs for N parameters and D tokens
//    (Kaplan et al. 2020, section 2.1; Hoffmann et al. 2022 use the same).
//  - Compute-optimal training takes D = r N tokens with r about 20
//    (Hoffmann et al. 2022, "Chinchilla": 70B parameters on 1.4T tokens);
//    a larger fixed r over-trains a smaller model on the same compute.
//  - Repetition: a run that makes E epochs over U unique tokens either
//    counts each epoch as new data (kEpochs: it needs U = D / E), or
//    follows Muennighoff et al. 2023 ("Scaling Data-Constrained Language
//    Models", eq. 5), where repeated tokens are worth less: E epochs of U
//    are worth the effective data D' = U + U R* (1 - exp(-R / R*)), with
//    R = E - 1 epochs beyond the first and R* = 15.4, and the run needs the
//    U whose D' equals its D.
// Dates are days since 1970-01-01 (pipeline/civil_date.h); a month is
// 365.2425 / 12 days, so supply grows smoothly across month ends.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace needle {

inline constexpr double kDaysPerYear = 365.2425;  // the Gregorian mean
inline constexpr double kDaysPerMonth = kDaysPerYear / 12;

enum class RepetitionRule : uint8_t { kEpochs, kMuennighoff };

struct Repetition {
  RepetitionRule rule = RepetitionRule::kEpochs;
  double max_epochs = 1;  // E >= 1: how often a run may see each token
  double r_star = 15.4;   // Muennighoff et al.'s fitted R*_D
};

// Muennighoff et al.'s effective data of `unique` tokens seen `epochs`
// times (epochs >= 1).
double EffectiveTokens(double unique, double epochs, double r_star);

// The training tokens one unique token is worth: E for kEpochs, the
// effective-data factor 1 + R* (1 - exp(-(E - 1) / R*)) for kMuennighoff.
double TrainingTokensPerUniqueToken(const Repetition& repetition);

// Unique tokens a run of `tokens` training tokens needs.
double UniqueTokensNeeded(double tokens, const Repetition& repetition);

// Training tokens of a run of `flops` on `params` parameters: C / (6 N).
double TokensFromFlops(double flops, double params);

struct ModelSize {
  double params = 0;
  double tokens = 0;  // training tokens, D
  double flops = 0;   // 6 N D
};

// The split of `flops` with D = r N: from C = 6 N D, D = sqrt(r C / 6).
ModelSize ComputeOptimal(double flops, double tokens_per_parameter);

// The largest model trained at r tokens per parameter on `unique_tokens`
// repeated as `repetition` allows: D = U x TrainingTokensPerUniqueToken,
// N = D / r.
ModelSize LargestModel(double unique_tokens, double tokens_per_parameter,
                       const Repetition& repetition);

struct PlannedRun {
  std::string name;
  int64_t day = 0;  // its date
  double params = 0;
  double tokens = 0;  // training tokens D, given or from its FLOPs
};

// Demand as a rule: compute grows `growth_per_year` times a year from the
// base run's, and the run of any day takes the compute-optimal split.
struct GrowthRule {
  int64_t base_day = 0;
  double base_flops = 0;
  double growth_per_year = 1;
};

// The training compute the rule gives a run on `day`.
double GrowthFlopsOn(const GrowthRule& rule, int64_t day);

// The rule's yearly runs: one on each anniversary of the base run from
// `first_day` to `last_day` (inclusive), named "<base_name> +Ny".
std::vector<PlannedRun> RunsFromGrowth(const GrowthRule& rule,
                                       const std::string& base_name,
                                       double tokens_per_parameter,
                                       int64_t first_day, int64_t last_day);

// A tier's unique tokens: `tokens` on the projection's as_of day, growing
// by `tokens_per_month` (the crawl's growth at this run's yield); earlier
// days have less, never below zero.
struct TierSupply {
  std::string name;
  double tokens = 0;
  double tokens_per_month = 0;
};

struct BudgetInput {
  int64_t as_of = 0;        // "today": the day the supply was measured
  int64_t horizon_end = 0;  // the last day the projection looks at
  Repetition repetition;
  double tokens_per_parameter = 20;
  // The plan, or the growth rule's yearly runs (RunsFromGrowth).
  std::vector<PlannedRun> runs;
  // Set for a growth rule: demand is then continuous between the runs.
  std::optional<GrowthRule> growth;
  std::vector<TierSupply> tiers;
};

double SupplyOn(const TierSupply& tier, int64_t as_of, int64_t day);

// Unique tokens demanded on `day`: with a growth rule, those of the
// compute-optimal run of that day's compute; with a plan, those of the
// latest runs dated on or before `day` (the largest if several share the
// date), and 0 before the first.
double DemandOn(const BudgetInput& input, int64_t day);

struct RunBalance {
  double need = 0;     // unique tokens the run needs
  double supply = 0;   // the tier's unique tokens on the run's date
  double surplus = 0;  // supply - need; negative is a deficit
  // The first day from as_of on which the supply covers the need; nullopt
  // when it never does (the tier does not grow) or only in 1000 years.
  std::optional<int64_t> enough_from;
};

struct TierBudget {
  std::string name;
  ModelSize largest_model_today;  // from the supply on as_of
  std::vector<RunBalance> runs;   // one per BudgetInput::runs, same order
  // The earliest run (by date, then plan order) whose need exceeds the
  // supply on its date.
  std::optional<size_t> first_short_run;
  // The first day in [as_of, horizon_end] on which demand exceeds supply.
  std::optional<int64_t> crossing;
};

// One TierBudget per BudgetInput::tiers, same order.
std::vector<TierBudget> ProjectBudget(const BudgetInput& input);

}  // namespace needle
