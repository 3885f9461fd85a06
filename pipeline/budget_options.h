#pragma once
// The config of the data-budget projection: [corpus] (what the run's
// inputs are a sample of, and how the crawl grows) and [budget] (the
// demand: a plan of runs or a growth rule, and how runs may repeat data).
// Both are read after every other section and kept out of the run's
// config hash: a new plan recomputes the report, never the shards.
// pipeline/budget.h holds the arithmetic; this header only reads and checks.

#include <string>
#include <vector>

#include "pipeline/budget.h"
#include "pipeline/config.h"

namespace needle {

struct CorpusOptions {  // TOML [corpus]
  std::string as_of;
  double total_raw_bytes = 0;
  std::string raw_bytes_measure = "stored";
  double raw_bytes_per_month = 0;

  void Visit(ConfigSection& s) {
    s.Date("as_of", &as_of,
           "Date the corpus totals describe, YYYY-MM-DD: the projection's "
           "today, from which supply grows. Needed when [budget] has a "
           "demand.");
    s.Field("total_raw_bytes", &total_raw_bytes,
            "Raw bytes of the whole crawl the run's inputs were sampled "
            "from; each tier's tokens are scaled by total_raw_bytes / the "
            "run's input bytes. 0: the inputs are the whole corpus.",
            0, 1e30);
    s.Choice("raw_bytes_measure", &raw_bytes_measure,
             {"stored", "decompressed"},
             "How total_raw_bytes and raw_bytes_per_month are measured, so "
             "which input bytes of the run they are compared with: stored = "
             "file sizes (run.json inputs[].size_bytes), decompressed = "
             "JSONL bytes (counts.bytes).");
    s.Field("raw_bytes_per_month", &raw_bytes_per_month,
            "Raw bytes the crawl grows by per month, in the same measure; "
            "each tier gains tokens at this run's yield (its tokens per "
            "input byte). 0: no growth.",
            0, 1e30);
  }
};

// One [[budget.runs]] entry.
struct PlannedRunOptions {
  std::string name;
  std::string date;
  double params = 0;
  double tokens = 0;
  double flops = 0;

  void Visit(ConfigSection& s) {
    s.Field("name", &name, "Name of the run, as the report shows it.");
    s.Date("date", &date, "When the run trains, YYYY-MM-DD.");
    s.Field("params", &params, "Model parameters, N (> 0).", 0, 1e30);
    s.Field("tokens", &tokens,
            "Training tokens, D, repeats included. Give tokens or flops, "
            "not both.",
            0, 1e30);
    s.Field("flops", &flops,
            "Training compute in FLOPs, C; then D = C / (6 N).", 0, 1e40);
  }
};

struct BudgetOptions {  // TOML [budget]
  std::string demand = "none";
  double tokens_per_parameter = 20;
  std::string repetition = "epochs";
  double max_epochs = 1;
  double r_star = 15.4;
  int horizon_years = 10;
  std::string base_name = "base";
  std::string base_date;
  double base_params = 0;
  double base_tokens = 0;
  double base_flops = 0;
  double compute_growth_per_year = 4;
  std::vector<PlannedRunOptions> runs;

  void Visit(ConfigSection& s) {
    s.Choice("demand", &demand, {"none", "plan", "growth"},
             "Where demand comes from: the [[budget.runs]] plan, a growth "
             "rule from a base run (base_*), or none (the report shows "
             "supply only).");
    s.Field("tokens_per_parameter", &tokens_per_parameter,
            "Training tokens per parameter of a compute-optimal run: 20 is "
            "Chinchilla-optimal (Hoffmann et al. 2022); larger over-trains. "
            "Sizes the growth rule's runs and the largest model a tier "
            "supports.",
            0.001, 1e9);
    s.Choice("repetition", &repetition, {"epochs", "muennighoff"},
             "How repeated tokens count: epochs = each epoch as new data "
             "(unique need = D / max_epochs); muennighoff = Muennighoff et "
             "al. 2023, repeats are worth less and the unique need is the U "
             "whose effective data U + U R* (1 - exp(-(E-1)/R*)) equals D.");
    s.Field("max_epochs", &max_epochs,
            "Epochs E a run may make over its unique tokens; 1 = no "
            "repetition.",
            1, 1e6);
    s.Field("r_star", &r_star,
            "R* of the muennighoff rule: how fast repeated epochs lose "
            "worth (15.4 in the paper's fit).",
            0.001, 1e6);
    s.Field("horizon_years", &horizon_years,
            "Years past as_of that the projection and its charts look "
            "ahead (longer when a planned run is later).",
            1, 200);
    s.Field("base_name", &base_name,
            "Growth rule: name of the base run; its yearly successors are "
            "named \"<base_name> +1y\" and so on.");
    s.Date("base_date", &base_date,
           "Growth rule: when the base run trained, YYYY-MM-DD.");
    s.Field("base_params", &base_params,
            "Growth rule: the base run's parameters; with base_tokens, its "
            "compute is 6 N D.",
            0, 1e30);
    s.Field("base_tokens", &base_tokens,
            "Growth rule: the base run's training tokens.", 0, 1e30);
    s.Field("base_flops", &base_flops,
            "Growth rule: the base run's compute in FLOPs, instead of "
            "base_params and base_tokens.",
            0, 1e40);
    s.Field("compute_growth_per_year", &compute_growth_per_year,
            "Growth rule: training compute multiplies by this each year; "
            "each year's run splits it compute-optimally.",
            0.001, 1e6);
    s.Tables("runs", &runs,
             "The plan: one [[budget.runs]] table per training run, with "
             "name, date, params and tokens or flops.");
  }
};

struct BudgetConfig {
  CorpusOptions corpus;
  BudgetOptions budget;
  std::string path;           // the config file
  std::string resolved_toml;  // [corpus] and [budget], every key resolved
  std::string hash;           // xxh3-64 of resolved_toml, 16 hex digits

  bool has_demand() const { return budget.demand != "none"; }
};

// Reads [corpus] and [budget] (the last sections read from `config`) and
// checks what no single key can: a demand needs as_of, a plan needs runs,
// each run needs a name, a date, params and exactly one of tokens and
// flops, names are unique, a growth rule needs its base. Throws ConfigError
// with file:line:col (a run's errors point at its [[budget.runs]] line).
BudgetConfig ReadBudgetConfig(ConfigFile& config);

// [budget]'s repetition, max_epochs and r_star as the projection's rule.
Repetition RepetitionFrom(const BudgetOptions& budget);

// The projection's input without its tiers: dates as day numbers, the
// plan's FLOPs as tokens, or the growth rule's yearly runs. Only for a
// config with a demand.
BudgetInput MakeBudgetInput(const BudgetConfig& config);

}  // namespace needle
