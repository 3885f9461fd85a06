// report.md and report.html: the same sections, tables and notes, drawn
// once as Markdown and once as HTML with the charts (pipeline/report.h).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

#include "pipeline/civil_date.h"
#include "pipeline/report.h"
#include "pipeline/report_charts.h"

namespace needle {
namespace {

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

struct Code {
  std::string caption;
  std::string text;
};

struct Section {
  std::string heading;
  std::vector<std::string> notes;  // one bullet each: sources, assumptions
  std::string svg;                 // the HTML page's chart
  std::vector<Table> tables;
  std::vector<Code> code;
};

// 1234567 -> "1,234,567": counts stay exact, and readable.
std::string Count(uint64_t value) {
  std::string digits = std::to_string(value);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) {
    digits.insert(static_cast<size_t>(i), ",");
  }
  return digits;
}

std::string Date(std::optional<int64_t> day, std::string_view none) {
  return day ? DateFromDays(*day) : std::string(none);
}

std::string Scientific(double value) { return fmt::format("{:.3g}", value); }

std::string Surplus(double surplus) {
  return surplus < 0 ? "deficit " + ShortNumber(-surplus)
                     : "surplus " + ShortNumber(surplus);
}

constexpr const char* kTierColors[] = {"#2e86c1", "#28b463", "#ca6f1e",
                                       "#7d3c98", "#17a589", "#b7950b"};

std::string RepetitionNote(const BudgetOptions& budget) {
  const double factor = TrainingTokensPerUniqueToken(RepetitionFrom(budget));
  if (budget.repetition == "muennighoff") {
    return fmt::format(
        "Repetition (Muennighoff et al. 2023): a run makes E = {} epochs "
        "over its unique tokens U, worth the effective data U + U R* (1 - "
        "exp(-(E - 1) / R*)) with R* = {}, so one unique token is worth {:.4f} "
        "training tokens and a run of D tokens needs U = D / {:.4f}.",
        budget.max_epochs, budget.r_star, factor, factor);
  }
  return fmt::format(
      "Repetition: a run makes up to E = {} epochs over its unique tokens, "
      "each counted as new data, so a run of D tokens needs U = D / {}.",
      budget.max_epochs, budget.max_epochs);
}

std::vector<std::string> AssumptionNotes(const Report& report) {
  const CorpusOptions& corpus = report.config.corpus;
  const BudgetOptions& budget = report.config.budget;
  std::vector<std::string> notes;
  notes.push_back(fmt::format(
      "Input bytes of the run: {} ({}; raw_bytes_measure = \"{}\").",
      Count(report.input_bytes), report.input_bytes_from,
      corpus.raw_bytes_measure));
  if (corpus.total_raw_bytes > 0) {
    notes.push_back(fmt::format(
        "The run is a sample: each tier's tokens x total_raw_bytes {} / "
        "input bytes {} = x {}.",
        Scientific(corpus.total_raw_bytes), Count(report.input_bytes),
        Scientific(report.scale)));
  } else {
    notes.push_back(
        "No total_raw_bytes: the run's inputs are the whole corpus (x 1).");
  }
  notes.push_back(fmt::format(
      "Crawl growth: {} raw bytes a month (a month = {:.4f} days, linear); "
      "each tier gains them at its measured tokens per input byte.",
      Scientific(corpus.raw_bytes_per_month), kDaysPerMonth));
  notes.push_back(fmt::format(
      "Training compute C = 6 N D FLOPs; a compute-optimal run takes D = "
      "r N tokens with r = {}{}.",
      budget.tokens_per_parameter,
      budget.tokens_per_parameter == 20
          ? " (Chinchilla-optimal, Hoffmann et al. 2022)"
          : " (a fixed ratio; Chinchilla-optimal is 20)"));
  notes.push_back(RepetitionNote(budget));
  notes.push_back(
      "Largest model a tier supports: D = its unique tokens x the worth of "
      "one unique token, N = D / r.");
  if (!report.demand) {
    notes.emplace_back("[budget] demand = \"none\": supply only.");
    return notes;
  }
  const BudgetInput& input = *report.demand;
  if (input.growth) {
    notes.push_back(fmt::format(
        "Demand, a growth rule: from {} on {} ({} FLOPs), compute x {} a "
        "year; the run of any day takes D = sqrt(r C / 6), N = D / r.",
        budget.base_name, DateFromDays(input.growth->base_day),
        Scientific(input.growth->base_flops), budget.compute_growth_per_year));
  } else {
    notes.push_back(fmt::format(
        "Demand, a plan of {} runs: a run given in FLOPs trains D = C / "
        "(6 N) tokens; between runs, demand is the latest run's need.",
        input.runs.size()));
  }
  notes.push_back(fmt::format(
      "Supply measured on {} (as_of); a run is short when its unique need "
      "exceeds the tier's supply on its date; demand and supply are "
      "compared day by day up to {}.",
      corpus.as_of, DateFromDays(input.horizon_end)));
  return notes;
}

Section SummarySection(const Report& report) {
  Section s;
  s.heading = "Data budget";
  const RunSummary& run = report.run;
  s.notes.push_back(
      fmt::format("Run: needle {}, config {} (hash {}), from run.json ({}).",
                  run.version, run.config_path, run.config_hash, run.format));
  s.notes.push_back(fmt::format("Projection config: {} (hash {}).",
                                report.config.path, report.config.hash));
  for (const std::string& warning : report.warnings) {
    s.notes.push_back("Warning: " + warning + ".");
  }
  const std::string as_of =
      report.config.corpus.as_of.empty() ? "as_of" : report.config.corpus.as_of;
  Table table;
  table.header = {"Tier",
                  "Docs",
                  "Tokens measured",
                  "Unique tokens on " + as_of,
                  "Growth a month",
                  "Largest model on " + as_of};
  if (report.demand) {
    table.header.insert(table.header.end(),
                        {"First short run", "Demand exceeds supply from"});
  }
  for (size_t t = 0; t < report.tiers.size(); ++t) {
    const TierReport& tier = report.tiers[t];
    std::vector<std::string> row = {
        tier.counts.name,
        Count(tier.counts.docs),
        Count(tier.counts.tokens),
        ShortNumber(tier.supply.tokens),
        ShortNumber(tier.supply.tokens_per_month),
        fmt::format("{} params on {} tokens",
                    ShortNumber(tier.largest_model.params),
                    ShortNumber(tier.largest_model.tokens))};
    if (report.demand) {
      const TierBudget& budget = report.budgets[t];
      const auto& runs = report.demand->runs;
      row.push_back(
          budget.first_short_run
              ? fmt::format("{} ({})", runs[*budget.first_short_run].name,
                            DateFromDays(runs[*budget.first_short_run].day))
              : "none");
      row.push_back(Date(budget.crossing, "never, to the horizon"));
    }
    table.rows.push_back(std::move(row));
  }
  s.tables.push_back(std::move(table));
  return s;
}

Section AssumptionsSection(const Report& report) {
  Section s;
  s.heading = "Assumptions";
  s.notes = AssumptionNotes(report);
  return s;
}

// Monthly points of a curve from as_of to the horizon.
template <class Value>
std::vector<ChartPoint> Sample(const BudgetInput& input, Value value) {
  std::vector<ChartPoint> points;
  const int64_t span = input.horizon_end - input.as_of;
  constexpr int kSteps = 120;
  for (int i = 0; i <= kSteps; ++i) {
    const int64_t day = input.as_of + span * i / kSteps;
    points.push_back({day, value(day)});
  }
  return points;
}

std::string TierChart(const Report& report, size_t t) {
  const BudgetInput& input = *report.demand;
  const TierReport& tier = report.tiers[t];
  const TierBudget& budget = report.budgets[t];
  std::vector<Series> series;
  Series supply;
  supply.name = "supply (" + tier.counts.name + ")";
  supply.color = kTierColors[t % std::size(kTierColors)];
  supply.points = Sample(input, [&](int64_t day) {
    return SupplyOn(tier.supply, input.as_of, day);
  });
  series.push_back(std::move(supply));
  Series demand;
  demand.name = "demand (unique need)";
  demand.color = "#555";
  demand.dashed = true;
  if (input.growth) {
    demand.points =
        Sample(input, [&](int64_t day) { return DemandOn(input, day); });
  } else {
    demand.steps = true;
    std::vector<int64_t> days = {input.as_of, input.horizon_end};
    for (const PlannedRun& run : input.runs) days.push_back(run.day);
    std::sort(days.begin(), days.end());
    days.erase(std::unique(days.begin(), days.end()), days.end());
    for (int64_t day : days) {
      if (day >= input.as_of)
        demand.points.push_back({day, DemandOn(input, day)});
    }
  }
  series.push_back(std::move(demand));
  // A growth rule's yearly runs would bury the chart in names: then only
  // the first short run is named.
  constexpr size_t kNamedRuns = 6;
  std::vector<Mark> marks;
  for (size_t i = 0; i < input.runs.size(); ++i) {
    const PlannedRun& run = input.runs[i];
    if (run.day < input.as_of) continue;
    const bool named =
        input.runs.size() <= kNamedRuns || budget.first_short_run == i;
    marks.push_back({{run.day, budget.runs[i].need},
                     named ? run.name : "",
                     budget.runs[i].surplus < 0});
  }
  return TimeChartSvg(
      "Tier " + tier.counts.name + ": unique tokens, supply against demand",
      input.as_of, input.horizon_end, series, marks, budget.crossing,
      budget.crossing ? "short from " + DateFromDays(*budget.crossing) : "");
}

Section TierSection(const Report& report, size_t t) {
  const TierReport& tier = report.tiers[t];
  const TierBudget& budget = report.budgets[t];
  const BudgetInput& input = *report.demand;
  Section s;
  s.heading = "Tier " + tier.counts.name;
  if (!tier.counts.definition.empty()) {
    s.notes.push_back("Definition: " + tier.counts.definition + ".");
  }
  s.notes.push_back(fmt::format(
      "Unique tokens on {}: {} measured ({}) x {} = {}.",
      report.config.corpus.as_of, Count(tier.counts.tokens), tier.counts.from,
      Scientific(report.scale), ShortNumber(tier.supply.tokens)));
  s.notes.push_back(fmt::format(
      "Growth: {} raw bytes a month x {} tokens per input byte = {} tokens a "
      "month.",
      Scientific(report.config.corpus.raw_bytes_per_month),
      Scientific(tier.tokens_per_input_byte),
      ShortNumber(tier.supply.tokens_per_month)));
  s.notes.push_back(
      fmt::format("Demand exceeds supply from: {}.",
                  Date(budget.crossing,
                       "never, up to " + DateFromDays(input.horizon_end))));
  s.svg = TierChart(report, t);
  Table table;
  table.header = {"Run",         "Date",
                  "Unique need", "Supply on date",
                  "Balance",     "Supply covers the need from"};
  const std::string never = tier.supply.tokens_per_month > 0
                                ? "not within 1000 years"
                                : "never (no growth)";
  for (size_t i = 0; i < input.runs.size(); ++i) {
    const RunBalance& balance = budget.runs[i];
    table.rows.push_back({input.runs[i].name, DateFromDays(input.runs[i].day),
                          ShortNumber(balance.need),
                          ShortNumber(balance.supply), Surplus(balance.surplus),
                          Date(balance.enough_from, never)});
  }
  s.tables.push_back(std::move(table));
  return s;
}

Section DemandSection(const Report& report) {
  const BudgetInput& input = *report.demand;
  Section s;
  s.heading = "Demand";
  s.notes.push_back(
      "Effective data: what the unique need is worth when repeated as "
      "planned, by Muennighoff et al.'s formula (close to the training "
      "tokens when repetition is mild).");
  Table table;
  table.header = {
      "Run",         "Date",        "Params",        "Training tokens",
      "FLOPs (6ND)", "Unique need", "Effective data"};
  for (const PlannedRun& run : input.runs) {
    const double need = UniqueTokensNeeded(run.tokens, input.repetition);
    table.rows.push_back(
        {run.name, DateFromDays(run.day), ShortNumber(run.params),
         ShortNumber(run.tokens), Scientific(6 * run.params * run.tokens),
         ShortNumber(need),
         ShortNumber(EffectiveTokens(need, input.repetition.max_epochs,
                                     input.repetition.r_star))});
  }
  s.tables.push_back(std::move(table));
  return s;
}

Section FunnelSection(const Report& report) {
  const RunSummary& run = report.run;
  Section s;
  s.heading = "Funnel";
  s.notes.emplace_back(
      "Each number is a counter in run.json, named in the From column. "
      "`needle sample --run OUT --reason R -n 20` prints documents behind a "
      "reason.");
  std::vector<Bar> bars;
  Table steps;
  steps.header = {"Step", "Documents", "From (run.json)"};
  auto step = [&](const std::string& label, uint64_t docs,
                  const std::string& from) {
    bars.push_back({label, static_cast<double>(docs), ""});
    steps.rows.push_back({label, Count(docs), from});
  };
  step("lines read", run.lines, "counts.lines");
  step("documents parsed", run.docs, "counts.docs");
  for (size_t i = 0; i < run.stages.size(); ++i) {
    step("after " + run.stages[i].name, run.stages[i].docs_out,
         fmt::format("counts.stages[{}].docs_out", i));
  }
  for (const TierCounts& tier : run.tiers) {
    step("tier " + tier.name, tier.docs, tier.from);
  }
  s.svg = BarChartSvg("Documents through the funnel", bars, "#5d6d7e");
  s.tables.push_back(std::move(steps));
  Table reasons;
  reasons.header = {"Reason", "Documents", "From (run.json)"};
  for (const auto& [reason, count] : run.reasons) {
    reasons.rows.push_back({reason, Count(count), "counts.reasons." + reason});
  }
  s.tables.push_back(std::move(reasons));
  return s;
}

Section LanguageSection(const Report& report) {
  const RunSummary& run = report.run;
  Section s;
  s.heading = "Tokens by language";
  bool any_tokens = false;
  for (const auto& [language, l] : run.languages) any_tokens |= l.kept_tokens;
  std::vector<std::pair<std::string, const LanguageCounts*>> order;
  for (const auto& [language, l] : run.languages) {
    order.emplace_back(language, &l);
  }
  auto measure = [&](const LanguageCounts& l) {
    return any_tokens ? l.kept_tokens : l.kept_bytes;
  };
  std::stable_sort(order.begin(), order.end(), [&](auto& a, auto& b) {
    return measure(*a.second) > measure(*b.second);
  });
  s.notes.push_back(any_tokens
                        ? "Kept tokens by the lang stage's language "
                          "(counts.languages.<language>.kept_tokens)."
                        : "No token counts: kept bytes by language instead "
                          "(counts.languages.<language>.kept_bytes).");
  std::vector<Bar> bars;
  constexpr size_t kShown = 15;
  for (size_t i = 0; i < order.size() && i < kShown; ++i) {
    bars.push_back(
        {order[i].first, static_cast<double>(measure(*order[i].second)), ""});
  }
  if (!bars.empty()) {
    s.svg = BarChartSvg(
        any_tokens ? "Kept tokens by language" : "Kept bytes by language", bars,
        "#2e86c1");
  }
  Table table;
  table.header = {"Language", "Kept docs", "Kept bytes", "Kept tokens",
                  "From (run.json)"};
  for (const auto& [language, l] : order) {
    table.rows.push_back({language, Count(l->kept_docs), Count(l->kept_bytes),
                          Count(l->kept_tokens),
                          "counts.languages." + language});
  }
  s.tables.push_back(std::move(table));
  return s;
}

Section InputsSection(const Report& report) {
  Section s;
  s.heading = "Inputs";
  Table table;
  table.header = {"Shard", "Path", "Bytes", "xxh3-64", "Codec"};
  for (const RunSummary::Input& input : report.run.inputs) {
    table.rows.push_back({input.name, input.path, Count(input.size_bytes),
                          input.xxh3, input.codec});
  }
  s.tables.push_back(std::move(table));
  return s;
}

Section ConfigurationSection(const Report& report) {
  Section s;
  s.heading = "Configuration";
  s.notes.push_back(fmt::format("Run config {}, hash {} (run.json config).",
                                report.run.config_path,
                                report.run.config_hash));
  s.notes.push_back(
      fmt::format("Projection config {}, hash {} (xxh3-64 of the text below).",
                  report.config.path, report.config.hash));
  s.code.push_back(
      {"[corpus] and [budget], resolved", report.config.resolved_toml});
  s.code.push_back({"The run's config, resolved (run.json config.resolved)",
                    report.run.config_resolved});
  return s;
}

// `needle tune --sweep`'s result: documents per tier at each threshold.
Section SweepSection(const ThresholdSweep& sweep) {
  Section s;
  s.heading = "Threshold sweep: " + sweep.tier + " " + sweep.signal;
  s.notes.push_back(
      "From tiers/sweep.json, written by the last `needle tune --sweep`; "
      "the tiers as they would be with each value in the tier's condition.");
  for (const ThresholdSweep::Tier& tier : sweep.tiers) {
    if (tier.name != sweep.tier) continue;
    std::vector<Bar> bars;
    for (size_t i = 0; i < sweep.values.size() && i < tier.docs.size(); ++i) {
      bars.push_back(
          {fmt::format("{} {}", sweep.signal, sweep.values[i]),
           static_cast<double>(tier.docs[i]),
           ShortNumber(static_cast<double>(tier.tokens[i])) + " tokens"});
    }
    s.svg = BarChartSvg("Documents in " + tier.name + " at each value", bars,
                        "#ca6f1e");
  }
  Table table;
  table.header = {"Value"};
  for (const ThresholdSweep::Tier& tier : sweep.tiers) {
    table.header.push_back(tier.name + " docs");
    table.header.push_back(tier.name + " tokens");
  }
  for (size_t i = 0; i < sweep.values.size(); ++i) {
    std::vector<std::string> row = {fmt::format("{}", sweep.values[i])};
    for (const ThresholdSweep::Tier& tier : sweep.tiers) {
      row.push_back(Count(tier.docs.at(i)));
      row.push_back(Count(tier.tokens.at(i)));
    }
    table.rows.push_back(std::move(row));
  }
  s.tables.push_back(std::move(table));
  return s;
}

constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

std::string Decimals(double value) {
  return std::isnan(value) ? "-" : fmt::format("{:.3f}", value);
}

// A signal's mean: counts as 1.96K, ratios as 0.0031.
std::string Mean(double value) {
  return std::isnan(value) ? "-" : ShortNumber(value);
}

// `needle review import`'s estimates: each tier's precision with its
// interval, and the signals that best separate kept from dropped.
Section ReviewSection(const Report& report) {
  constexpr size_t kSignalsShown = 10;
  const ReviewSummary& review = *report.review;
  Section s;
  s.heading = "Review: precision by tier";
  s.notes.push_back(fmt::format(
      "From review/summary.json: people kept {} and dropped {} of {} "
      "reviewed documents (`needle review export`, then `needle review "
      "import`).",
      Count(review.keep), Count(review.drop), Count(review.reviewed)));
  s.notes.emplace_back(
      "Precision: the share of a tier's reviewed members that were kept, "
      "with its 95% Wilson score interval. A document counts for its "
      "highest tier and every tier below it.");
  std::vector<std::string> run_tiers;
  for (const TierCounts& tier : report.run.tiers) {
    run_tiers.push_back(tier.name);
  }
  std::vector<std::string> reviewed_tiers;
  for (const TierPrecision& tier : review.tiers) {
    reviewed_tiers.push_back(tier.name);
  }
  if (reviewed_tiers != run_tiers) {
    s.notes.push_back(fmt::format(
        "The run's tiers are now {}; these estimates are for the tiers the "
        "sample was drawn from. Review a new sample to estimate the new "
        "ones.",
        fmt::join(run_tiers, ", ")));
  }
  if (review.unknown_tier > 0) {
    s.notes.push_back(fmt::format(
        "{} reviewed documents were in a tier the run no longer had at "
        "import: they count in no tier's precision.",
        Count(review.unknown_tier)));
  }
  std::vector<Estimate> estimates;
  Table tiers;
  tiers.header = {"Tier", "Reviewed", "Kept", "Precision", "95% interval"};
  for (const TierPrecision& tier : review.tiers) {
    const bool estimated = tier.reviewed > 0 && !std::isnan(tier.precision);
    estimates.push_back({tier.name, estimated ? tier.precision : kNoValue,
                         tier.low, tier.high,
                         fmt::format("{} reviewed", Count(tier.reviewed))});
    tiers.rows.push_back(
        {tier.name, Count(tier.reviewed), Count(tier.keep),
         estimated ? Decimals(tier.precision) : "-",
         estimated
             ? fmt::format("[{}, {}]", Decimals(tier.low), Decimals(tier.high))
             : "-"});
  }
  s.svg = IntervalChartSvg("Precision by tier, with 95% intervals", estimates,
                           "#28b463");
  s.tables.push_back(std::move(tiers));
  if (!review.signals.empty()) {
    s.notes.push_back(fmt::format(
        "Signals that separate kept from dropped documents, the {} strongest "
        "of {}: AUC is the chance that a kept document's value exceeds a "
        "dropped one's (ties count half); 0.5 separates nothing, below 0.5 "
        "the dropped documents score higher.",
        std::min(kSignalsShown, review.signals.size()), review.signals.size()));
    Table signals;
    signals.header = {"Signal",       "AUC",          "Mean kept",
                      "Mean dropped", "Kept with it", "Dropped with it"};
    for (size_t i = 0; i < review.signals.size() && i < kSignalsShown; ++i) {
      const SignalSeparation& signal = review.signals[i];
      signals.rows.push_back({signal.name, Decimals(signal.auc),
                              Mean(signal.kept_mean), Mean(signal.dropped_mean),
                              Count(signal.kept), Count(signal.dropped)});
    }
    s.tables.push_back(std::move(signals));
  }
  return s;
}

std::vector<Section> Sections(const Report& report) {
  std::vector<Section> sections = {SummarySection(report),
                                   AssumptionsSection(report)};
  if (report.demand) {
    for (size_t t = 0; t < report.tiers.size(); ++t) {
      sections.push_back(TierSection(report, t));
    }
    sections.push_back(DemandSection(report));
  }
  sections.push_back(FunnelSection(report));
  if (report.sweep) sections.push_back(SweepSection(*report.sweep));
  if (report.review) sections.push_back(ReviewSection(report));
  sections.push_back(LanguageSection(report));
  sections.push_back(InputsSection(report));
  sections.push_back(ConfigurationSection(report));
  return sections;
}

std::string MarkdownCell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c == '\n' ? ' ' : c;  // a line break would end the table
  }
  return out;
}

}  // namespace

std::string ReportMarkdown(const Report& report) {
  std::string md = "# Needle data-budget report\n";
  auto out = std::back_inserter(md);
  for (const Section& section : Sections(report)) {
    fmt::format_to(out, "\n## {}\n", section.heading);
    if (!section.notes.empty()) md += '\n';
    for (const std::string& note : section.notes) {
      fmt::format_to(out, "- {}\n", note);
    }
    for (const Table& table : section.tables) {
      if (table.rows.empty()) continue;
      md += '\n';
      for (const std::string& cell : table.header) {
        fmt::format_to(out, "| {} ", MarkdownCell(cell));
      }
      md += "|\n";
      for (size_t i = 0; i < table.header.size(); ++i) md += "|---";
      md += "|\n";
      for (const auto& row : table.rows) {
        for (const std::string& cell : row) {
          fmt::format_to(out, "| {} ", MarkdownCell(cell));
        }
        md += "|\n";
      }
    }
    for (const Code& code : section.code) {
      fmt::format_to(out, "\n{}:\n\n```toml\n{}```\n", code.caption, code.text);
    }
  }
  return md;
}

std::string ReportHtml(const Report& report) {
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<title>Needle data-budget report</title>\n<style>\n"
      "body{font-family:sans-serif;margin:2em auto;max-width:62em;"
      "color:#222;padding:0 1em}\n"
      "table{border-collapse:collapse;margin:1em 0;font-size:.9em}\n"
      "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}\n"
      "th{background:#f2f4f4}\n"
      "pre{background:#f8f9f9;padding:1em;overflow-x:auto;font-size:.85em}\n"
      "svg{display:block;margin:1em 0}\n"
      "</style>\n</head>\n<body>\n<h1>Needle data-budget report</h1>\n";
  auto out = std::back_inserter(html);
  for (const Section& section : Sections(report)) {
    fmt::format_to(out, "<h2>{}</h2>\n", EscapeHtml(section.heading));
    if (!section.notes.empty()) {
      html += "<ul>\n";
      for (const std::string& note : section.notes) {
        fmt::format_to(out, "<li>{}</li>\n", EscapeHtml(note));
      }
      html += "</ul>\n";
    }
    html += section.svg;
    for (const Table& table : section.tables) {
      if (table.rows.empty()) continue;
      html += "<table>\n<tr>";
      for (const std::string& cell : table.header) {
        fmt::format_to(out, "<th>{}</th>", EscapeHtml(cell));
      }
      html += "</tr>\n";
      for (const auto& row : table.rows) {
        html += "<tr>";
        for (const std::string& cell : row) {
          fmt::format_to(out, "<td>{}</td>", EscapeHtml(cell));
        }
        html += "</tr>\n";
      }
      html += "</table>\n";
    }
    for (const Code& code : section.code) {
      fmt::format_to(out,
                     "<details><summary>{}</summary><pre>{}</pre></details>\n",
                     EscapeHtml(code.caption), EscapeHtml(code.text));
    }
  }
  html += "</body>\n</html>\n";
  return html;
}

}  // namespace needle
