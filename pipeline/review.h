#pragma once
// Human review of a run's tiers (issue 6: Emu's people in the loop).
//
// `needle review export` draws a random sample of the members of one tier
// (the documents in its folder or any higher tier's: pipeline/tier_step.h)
// and writes it as a CSV sheet with an empty verdict column. The sample is
// stratified by the "lang" signal ("und" without one) with proportional
// allocation (see AllocateSample), and within a language it is the
// documents with the smallest keys xxh3-64(id, seed): a uniform sample
// without replacement that depends only on the ids and the seed, never on
// the platform's <random>, the thread count or the file layout. Two
// streaming passes over the tier files, holding only (key, position) pairs
// and then the sampled documents. The sampled ids, tiers and signals are
// also kept in OUT/review/sample.jsonl (merged over exports), so import can
// check the sheet's ids and knows each document's signals.
//
// `needle review import` checks a filled sheet, merges its verdicts into
// OUT/review/verdicts.jsonl (a later verdict for an id replaces the
// earlier; a blank one changes nothing) and writes OUT/review/summary.json:
// per tier, the share of reviewed members kept with its 95% Wilson score
// interval, and per numeric signal, how well it separates kept from
// dropped documents (ROC AUC).
//
// The estimates count every reviewed document alike. Proportional
// allocation keeps one export nearly self-weighting, but a document
// reviewed from a sample of a high tier also counts for every tier below
// it, so mixing exports of different tiers leans the lower tiers'
// estimates toward the higher tiers' documents.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace needle {

inline constexpr const char* kReviewSummaryFormat = "needle.review/1";

// OUT/review/summary.json: what the data-budget report reads. Self-
// describing; see ReviewSummaryJson for its fields.
std::string ReviewSummaryJsonPath(const std::string& out_dir);

struct ReviewExportRequest {
  std::string run_dir;
  std::string tier;
  std::string sheet_path;  // the CSV to write
  size_t count = 200;
  uint64_t seed = 0;
};

struct ReviewExportResult {
  uint64_t members = 0;  // documents in the tier and above
  struct Stratum {
    std::string lang;
    uint64_t members = 0;
    size_t sampled = 0;
  };
  std::vector<Stratum> strata;  // by language name
  size_t sampled = 0;
};

// Writes the sheet and merges the sample into OUT/review/sample.jsonl.
// Throws std::runtime_error when the run has no tiers, the tier is unknown,
// a tier file is damaged, or two sampled documents share an id.
ReviewExportResult ExportReviewSheet(const ReviewExportRequest& request);

struct TierPrecision {
  std::string name;
  uint64_t reviewed = 0;  // reviewed members: in this tier or above
  uint64_t keep = 0;
  // keep / reviewed and its 95% Wilson interval; NaN when none reviewed.
  double precision = 0, low = 0, high = 0;
};

struct SignalSeparation {
  std::string name;
  uint64_t kept = 0, dropped = 0;  // reviewed documents with the signal
  // Means, and P(kept value > dropped value) + P(equal) / 2; NaN when a
  // group is empty.
  double kept_mean = 0, dropped_mean = 0, auc = 0;
};

struct ReviewSummary {
  uint64_t reviewed = 0, keep = 0, drop = 0;
  // Verdicts on documents whose tier the run no longer has (re-tuned since
  // the export): counted in reviewed and in signals, in no tier.
  uint64_t unknown_tier = 0;
  std::vector<TierPrecision> tiers;  // the run's tiers, loosest first
  // Sorted by |auc - 0.5|, most separating first; then by name.
  std::vector<SignalSeparation> signals;
};

struct ReviewImportResult {
  // "<sheet>:<line>: what is wrong", in line order; nothing was stored when
  // there is any.
  std::vector<std::string> errors;
  size_t verdicts_read = 0;    // rows of the sheet with a verdict
  size_t verdicts_stored = 0;  // in verdicts.jsonl after the merge
  ReviewSummary summary;
  // Whether report.html (with .md and .json) was rebuilt to show the new
  // summary: only when the run has a report to rebuild.
  bool report_rewritten = false;
};

// Checks `sheet_path` (named `sheet_name` in errors), then stores its
// verdicts, writes summary.json and rebuilds the run's report with it
// (RewriteReport in pipeline/report.h). Throws std::runtime_error for faults
// of the run rather than of the sheet (no run.json, no export yet).
ReviewImportResult ImportReviewSheet(const std::string& run_dir,
                                     const std::string& sheet_path,
                                     const std::string& sheet_name);

std::string ReviewSummaryJson(const ReviewSummary& summary);
// Reads OUT/review/summary.json back: nullopt when there is none; throws
// std::runtime_error when it is not a needle.review/1 summary.
std::optional<ReviewSummary> ReadReviewSummary(const std::string& out_dir);
// Two small tables for the terminal: tiers, then signals.
std::string ReviewSummaryText(const ReviewSummary& summary);

// Building blocks, exposed for tests.

// How many of `count` samples each stratum gets, for strata of `sizes`
// documents: proportional allocation rounded by largest remainder (ties to
// the larger stratum, then the earlier), then, when count allows, every
// non-empty stratum that got none (in order) takes one from the stratum
// holding the most (ties to the first), so every language is seen. All of
// every stratum when count covers every document.
std::vector<size_t> AllocateSample(const std::vector<uint64_t>& sizes,
                                   size_t count);

struct Interval {
  double low = 0, high = 0;
};
// The Wilson score interval for `successes` of `trials` at 95% (z =
// 1.959964); {0, 1} for no trials.
Interval WilsonInterval(uint64_t successes, uint64_t trials);

// Mann-Whitney AUC: the probability that a random `kept` value exceeds a
// random `dropped` one, ties counting half. NaN when either is empty.
double RankAuc(const std::vector<double>& kept,
               const std::vector<double>& dropped);

}  // namespace needle
