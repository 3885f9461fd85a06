#include "pipeline/budget_options.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <set>

#include "pipeline/civil_date.h"

namespace needle {
namespace {

void CheckPlannedRun(const ConfigFile& config, size_t index,
                     const PlannedRunOptions& run,
                     std::set<std::string>* names) {
  const std::string where = config.Where("budget", "runs", index);
  if (run.name.empty()) {
    throw ConfigError(
        fmt::format("{}: planned run {} has no name", where, index + 1));
  }
  auto fail = [&](std::string_view problem) {
    throw ConfigError(
        fmt::format("{}: planned run '{}': {}", where, run.name, problem));
  };
  if (!names->insert(run.name).second) fail("the name is used twice");
  if (run.date.empty()) fail("no date (YYYY-MM-DD)");
  if (run.params <= 0) fail("no params (the model's parameters)");
  if ((run.tokens > 0) == (run.flops > 0)) {
    fail(run.tokens > 0 ? "give tokens or flops, not both"
                        : "give tokens or flops");
  }
}

void CheckGrowthRule(const ConfigFile& config, const BudgetOptions& budget) {
  const std::string where = config.Where("budget", "demand");
  if (budget.base_date.empty()) {
    throw ConfigError(fmt::format(
        "{}: demand = \"growth\" needs base_date, the base run's date", where));
  }
  const bool by_size = budget.base_params > 0 && budget.base_tokens > 0;
  if (by_size == (budget.base_flops > 0)) {
    throw ConfigError(fmt::format(
        "{}: demand = \"growth\" needs the base run's compute: base_flops, "
        "or base_params and base_tokens",
        where));
  }
}

}  // namespace

BudgetConfig ReadBudgetConfig(ConfigFile& config) {
  BudgetConfig out;
  const size_t before = config.resolved_toml().size();
  config.Read("corpus",
              "The crawl the run's inputs sample, for the data-budget report",
              &out.corpus);
  config.Read("budget",
              "Demand for unique tokens: planned runs or a growth rule",
              &out.budget);
  out.path = config.path();
  out.resolved_toml = config.resolved_toml().substr(before);
  // The separating blank line belongs to the whole file, not the sections.
  if (out.resolved_toml.starts_with('\n')) out.resolved_toml.erase(0, 1);
  out.hash = fmt::format("{:016x}", XXH3_64bits(out.resolved_toml.data(),
                                                out.resolved_toml.size()));

  const BudgetOptions& budget = out.budget;
  if (!out.has_demand()) return out;
  if (out.corpus.as_of.empty()) {
    throw ConfigError(fmt::format(
        "{}: demand = \"{}\" needs [corpus] as_of, the date the supply is "
        "measured on",
        config.Where("budget", "demand"), budget.demand));
  }
  if (budget.demand == "growth") {
    CheckGrowthRule(config, budget);
    return out;
  }
  if (budget.runs.empty()) {
    throw ConfigError(fmt::format(
        "{}: demand = \"plan\" needs at least one [[budget.runs]] table",
        config.Where("budget", "demand")));
  }
  std::set<std::string> names;
  for (size_t i = 0; i < budget.runs.size(); ++i) {
    CheckPlannedRun(config, i, budget.runs[i], &names);
  }
  return out;
}

Repetition RepetitionFrom(const BudgetOptions& budget) {
  Repetition repetition;
  repetition.rule = budget.repetition == "muennighoff"
                        ? RepetitionRule::kMuennighoff
                        : RepetitionRule::kEpochs;
  repetition.max_epochs = budget.max_epochs;
  repetition.r_star = budget.r_star;
  return repetition;
}

BudgetInput MakeBudgetInput(const BudgetConfig& config) {
  const BudgetOptions& budget = config.budget;
  BudgetInput input;
  input.as_of = DaysFromDate(config.corpus.as_of).value_or(0);
  input.horizon_end = AddYears(input.as_of, budget.horizon_years);
  input.tokens_per_parameter = budget.tokens_per_parameter;
  input.repetition = RepetitionFrom(budget);
  if (budget.demand == "growth") {
    GrowthRule rule;
    rule.base_day = DaysFromDate(budget.base_date).value_or(0);
    rule.base_flops = budget.base_flops > 0
                          ? budget.base_flops
                          : 6 * budget.base_params * budget.base_tokens;
    rule.growth_per_year = budget.compute_growth_per_year;
    input.growth = rule;
    input.runs =
        RunsFromGrowth(rule, budget.base_name, budget.tokens_per_parameter,
                       input.as_of, input.horizon_end);
    return input;
  }
  for (const PlannedRunOptions& options : budget.runs) {
    PlannedRun run;
    run.name = options.name;
    run.day = DaysFromDate(options.date).value_or(0);
    run.params = options.params;
    run.tokens = options.tokens > 0
                     ? options.tokens
                     : TokensFromFlops(options.flops, options.params);
    input.horizon_end = std::max(input.horizon_end, run.day);
    input.runs.push_back(std::move(run));
  }
  return input;
}

}  // namespace needle
