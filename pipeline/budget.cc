#include "pipeline/budget.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "pipeline/civil_date.h"

namespace needle {

double EffectiveTokens(double unique, double epochs, double r_star) {
  const double repeats = epochs - 1;  // Muennighoff's R_D
  return unique + unique * r_star * (1 - std::exp(-repeats / r_star));
}

double TrainingTokensPerUniqueToken(const Repetition& repetition) {
  if (repetition.rule == RepetitionRule::kEpochs) return repetition.max_epochs;
  return EffectiveTokens(1, repetition.max_epochs, repetition.r_star);
}

double UniqueTokensNeeded(double tokens, const Repetition& repetition) {
  return tokens / TrainingTokensPerUniqueToken(repetition);
}

double TokensFromFlops(double flops, double params) {
  return flops / (6 * params);
}

ModelSize ComputeOptimal(double flops, double tokens_per_parameter) {
  ModelSize size;
  size.tokens = std::sqrt(tokens_per_parameter * flops / 6);
  size.params = size.tokens / tokens_per_parameter;
  size.flops = flops;
  return size;
}

ModelSize LargestModel(double unique_tokens, double tokens_per_parameter,
                       const Repetition& repetition) {
  ModelSize size;
  size.tokens = unique_tokens * TrainingTokensPerUniqueToken(repetition);
  size.params = size.tokens / tokens_per_parameter;
  size.flops = 6 * size.params * size.tokens;
  return size;
}

double GrowthFlopsOn(const GrowthRule& rule, int64_t day) {
  const double years = static_cast<double>(day - rule.base_day) / kDaysPerYear;
  return rule.base_flops * std::pow(rule.growth_per_year, years);
}

std::vector<PlannedRun> RunsFromGrowth(const GrowthRule& rule,
                                       const std::string& base_name,
                                       double tokens_per_parameter,
                                       int64_t first_day, int64_t last_day) {
  std::vector<PlannedRun> runs;
  // A year before the first anniversary that can fall in the window, so
  // that leap days cannot make the loop miss it.
  const int first_year =
      static_cast<int>(std::floor(
          static_cast<double>(first_day - rule.base_day) / kDaysPerYear)) -
      1;
  for (int years = first_year;; ++years) {
    const int64_t day = AddYears(rule.base_day, years);
    if (day > last_day) break;
    if (day < first_day) continue;
    const ModelSize size =
        ComputeOptimal(GrowthFlopsOn(rule, day), tokens_per_parameter);
    PlannedRun run;
    run.name =
        years == 0 ? base_name : fmt::format("{} {:+}y", base_name, years);
    run.day = day;
    run.params = size.params;
    run.tokens = size.tokens;
    runs.push_back(std::move(run));
  }
  return runs;
}

double SupplyOn(const TierSupply& tier, int64_t as_of, int64_t day) {
  const double months = static_cast<double>(day - as_of) / kDaysPerMonth;
  return std::max(0.0, tier.tokens + tier.tokens_per_month * months);
}

double DemandOn(const BudgetInput& input, int64_t day) {
  if (input.growth) {
    const ModelSize size = ComputeOptimal(GrowthFlopsOn(*input.growth, day),
                                          input.tokens_per_parameter);
    return UniqueTokensNeeded(size.tokens, input.repetition);
  }
  int64_t latest = INT64_MIN;
  double tokens = 0;
  for (const PlannedRun& run : input.runs) {
    if (run.day > day || run.day < latest) continue;
    tokens = run.day > latest ? run.tokens : std::max(tokens, run.tokens);
    latest = run.day;
  }
  return UniqueTokensNeeded(tokens, input.repetition);
}

namespace {

// Past a thousand years, "never" is the honest answer (and a day count
// stays far from overflowing).
constexpr double kNeverDays = 1000 * kDaysPerYear;

// The first day from as_of on which `tier` holds `need` tokens.
std::optional<int64_t> EnoughFrom(const TierSupply& tier, int64_t as_of,
                                  double need) {
  if (tier.tokens >= need) return as_of;
  if (tier.tokens_per_month <= 0) return std::nullopt;
  const double days =
      (need - tier.tokens) / tier.tokens_per_month * kDaysPerMonth;
  if (days > kNeverDays) return std::nullopt;
  int64_t day = as_of + static_cast<int64_t>(std::ceil(days));
  // Rounding may leave the supply a hair short on the computed day.
  while (SupplyOn(tier, as_of, day) < need) ++day;
  return day;
}

// Demand against supply day by day: a decade is a few thousand steps, and
// a scan cannot miss a crossing that a closed form would need a case for
// (a plan's demand is a step function, a growth rule's an exponential).
std::optional<int64_t> Crossing(const BudgetInput& input,
                                const TierSupply& tier) {
  for (int64_t day = input.as_of; day <= input.horizon_end; ++day) {
    if (DemandOn(input, day) > SupplyOn(tier, input.as_of, day)) return day;
  }
  return std::nullopt;
}

}  // namespace

std::vector<TierBudget> ProjectBudget(const BudgetInput& input) {
  std::vector<TierBudget> budgets;
  for (const TierSupply& tier : input.tiers) {
    TierBudget budget;
    budget.name = tier.name;
    budget.largest_model_today =
        LargestModel(tier.tokens, input.tokens_per_parameter, input.repetition);
    for (size_t i = 0; i < input.runs.size(); ++i) {
      const PlannedRun& run = input.runs[i];
      RunBalance balance;
      balance.need = UniqueTokensNeeded(run.tokens, input.repetition);
      balance.supply = SupplyOn(tier, input.as_of, run.day);
      balance.surplus = balance.supply - balance.need;
      balance.enough_from = EnoughFrom(tier, input.as_of, balance.need);
      if (balance.surplus < 0 &&
          (!budget.first_short_run ||
           run.day < input.runs[*budget.first_short_run].day)) {
        budget.first_short_run = i;
      }
      budget.runs.push_back(balance);
    }
    budget.crossing = Crossing(input, tier);
    budgets.push_back(std::move(budget));
  }
  return budgets;
}

}  // namespace needle
