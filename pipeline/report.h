#pragma once
// The data-budget report, written beside run.json: OUT/report.json (schema
// "needle.report/1"), OUT/report.md and OUT/report.html (one page, inline
// SVG charts, nothing fetched). It is built from run.json and the [corpus]
// and [budget] sections alone, so `needle budget` recomputes it without
// re-running anything, and it is deterministic: the same run.json and
// config give the same bytes (no timestamps, timings or output paths).
// Every count names the run.json field it comes from, and every assumption
// of the projection is printed beside its result, for auditors.

#include <optional>
#include <string>
#include <vector>

#include "pipeline/budget.h"
#include "pipeline/budget_options.h"
#include "pipeline/review.h"
#include "pipeline/run_summary.h"

namespace needle {

inline constexpr const char* kReportFormat = "needle.report/1";

struct TierReport {
  TierCounts counts;
  double tokens_per_input_byte = 0;  // the tier's yield from raw input
  TierSupply supply;                 // unique tokens on as_of, and growth
  ModelSize largest_model;           // trainable on supply.tokens today
};

// `needle tune --sweep`'s last result (OUT/tiers/sweep.json): documents
// and tokens per tier at each value of one tier's threshold.
struct ThresholdSweep {
  std::string tier, signal;
  std::vector<double> values;
  struct Tier {
    std::string name;
    std::vector<uint64_t> docs, tokens;  // one per value
  };
  std::vector<Tier> tiers;
};

// Reads OUT/tiers/sweep.json; nullopt when there is none.
std::optional<ThresholdSweep> ReadThresholdSweep(const std::string& out_dir);
std::string ThresholdSweepJson(const ThresholdSweep& sweep);

struct Report {
  RunSummary run;
  std::optional<ThresholdSweep> sweep;
  // `needle review import`'s estimates (OUT/review/summary.json).
  std::optional<ReviewSummary> review;
  BudgetConfig config;
  // The run's input bytes in [corpus] raw_bytes_measure, and their source.
  uint64_t input_bytes = 0;
  std::string input_bytes_from;
  double scale = 1;  // total_raw_bytes / input_bytes; 1 without a total
  std::vector<TierReport> tiers;
  std::optional<BudgetInput> demand;  // set when [budget] has a demand
  std::vector<TierBudget> budgets;    // one per tier when it has
  std::vector<std::string> warnings;  // numbers to read with care, and why
};

Report BuildReport(RunSummary run, const BudgetConfig& config);

std::string ReportJson(const Report& report);
std::string ReportMarkdown(const Report& report);
std::string ReportHtml(const Report& report);

// A few lines for the terminal: each tier's unique tokens today and, with
// a demand, its first short run and the day demand overtakes supply.
std::string ReportSummaryText(const Report& report);

// Reads OUT/run.json (and tiers/sweep.json, review/summary.json when
// there) and writes the three files, each atomically. Throws
// std::runtime_error when run.json cannot be read or a file written.
Report WriteReport(const std::string& out_dir, const BudgetConfig& config);

// WriteReport with the [corpus] and [budget] config the existing report
// was built with (report.json's budget_config), for outputs that only add
// to the report (a review import). False, and nothing written, when the
// run has no report.json yet.
bool RewriteReport(const std::string& out_dir);

}  // namespace needle
