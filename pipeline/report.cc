#include "pipeline/report.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <simdjson.h>

#include <cmath>
#include <filesystem>
#include <iterator>
#include <stdexcept>

#include "pipeline/atomic_file.h"
#include "pipeline/civil_date.h"
#include "pipeline/config.h"
#include "pipeline/json_text.h"
#include "pipeline/report_charts.h"

namespace needle {

Report BuildReport(RunSummary run, const BudgetConfig& config) {
  Report report;
  report.config = config;
  const CorpusOptions& corpus = config.corpus;
  const bool stored = corpus.raw_bytes_measure == "stored";
  report.input_bytes = stored ? run.input_file_bytes : run.bytes;
  report.input_bytes_from =
      stored ? "inputs[].size_bytes, summed" : "counts.bytes";
  if (corpus.total_raw_bytes > 0 && report.input_bytes > 0) {
    report.scale =
        corpus.total_raw_bytes / static_cast<double>(report.input_bytes);
  } else if (corpus.total_raw_bytes > 0) {
    report.warnings.emplace_back(
        "the run read no input bytes, so total_raw_bytes cannot scale it");
  }
  bool has_tokens_stage = false;
  for (const RunSummary::Stage& stage : run.stages) {
    has_tokens_stage |= stage.name == "tokens";
  }
  if (!has_tokens_stage) {
    report.warnings.emplace_back(
        "the run had no tokens stage, so every token count is 0: add "
        "\"tokens\" to [pipeline] stages");
  }
  if (run.languages.empty() && run.tiers.size() == 1 &&
      run.tiers[0].name == "kept" && run.kept > 0) {
    report.warnings.emplace_back(
        "the run had no lang stage, so kept bytes and tokens were not "
        "counted: add \"lang\" to [pipeline] stages");
  }
  for (const TierCounts& counts : run.tiers) {
    TierReport tier;
    tier.counts = counts;
    tier.tokens_per_input_byte =
        report.input_bytes > 0 ? static_cast<double>(counts.tokens) /
                                     static_cast<double>(report.input_bytes)
                               : 0.0;
    tier.supply.name = counts.name;
    tier.supply.tokens = static_cast<double>(counts.tokens) * report.scale;
    tier.supply.tokens_per_month =
        corpus.raw_bytes_per_month * tier.tokens_per_input_byte;
    tier.largest_model =
        LargestModel(tier.supply.tokens, config.budget.tokens_per_parameter,
                     RepetitionFrom(config.budget));
    report.tiers.push_back(std::move(tier));
  }
  report.run = std::move(run);
  if (config.has_demand()) {
    BudgetInput input = MakeBudgetInput(config);
    for (const TierReport& tier : report.tiers) {
      input.tiers.push_back(tier.supply);
    }
    report.budgets = ProjectBudget(input);
    report.demand = std::move(input);
  }
  return report;
}

namespace {

// Writes indented JSON, one value per line, so that reports diff well.
class JsonWriter {
 public:
  JsonWriter& Key(std::string_view key) {
    Separate();
    AppendJsonString(key, &out_);
    out_ += ": ";
    after_key_ = true;
    return *this;
  }
  JsonWriter& Open(char bracket) {
    Separate();
    out_ += bracket;
    firsts_.push_back(true);
    return *this;
  }
  JsonWriter& Close(char bracket) {
    const bool empty = firsts_.back();
    firsts_.pop_back();
    if (!empty) NewLine();
    out_ += bracket;
    return *this;
  }
  JsonWriter& String(std::string_view value) {
    Separate();
    AppendJsonString(value, &out_);
    return *this;
  }
  JsonWriter& Count(uint64_t value) {
    Separate();
    fmt::format_to(std::back_inserter(out_), "{}", value);
    return *this;
  }
  // Shortest round-trip text; JSON has no infinities, so those are null.
  JsonWriter& Number(double value) {
    Separate();
    out_ += std::isfinite(value) ? fmt::format("{}", value) : "null";
    return *this;
  }
  JsonWriter& Null() {
    Separate();
    out_ += "null";
    return *this;
  }
  JsonWriter& Date(std::optional<int64_t> day) {
    return day ? String(DateFromDays(*day)) : Null();
  }
  std::string Finish() { return out_ + "\n"; }

 private:
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (firsts_.empty()) return;
    if (!firsts_.back()) out_ += ',';
    firsts_.back() = false;
    NewLine();
  }
  void NewLine() {
    out_ += '\n';
    out_.append(firsts_.size(), ' ');
  }

  std::string out_;
  std::vector<bool> firsts_;
  bool after_key_ = false;
};

void WriteRun(const Report& report, JsonWriter& j) {
  const RunSummary& run = report.run;
  j.Key("run").Open('{');
  j.Key("file").String("run.json");
  j.Key("format").String(run.format);
  j.Key("version").String(run.version);
  j.Key("config").Open('{');
  j.Key("path").String(run.config_path);
  j.Key("hash").String(run.config_hash);
  j.Close('}');
  j.Key("inputs").Open('[');
  for (const RunSummary::Input& input : run.inputs) {
    j.Open('{');
    j.Key("name").String(input.name);
    j.Key("path").String(input.path);
    j.Key("size_bytes").Count(input.size_bytes);
    j.Key("xxh3").String(input.xxh3);
    j.Key("codec").String(input.codec);
    j.Close('}');
  }
  j.Close(']');
  j.Close('}');
}

void WriteFunnel(const RunSummary& run, JsonWriter& j) {
  j.Key("funnel").Open('[');
  auto step = [&](std::string_view label, uint64_t docs,
                  std::string_view from) {
    j.Open('{');
    j.Key("step").String(label);
    j.Key("docs").Count(docs);
    j.Key("from").String(from);
    j.Close('}');
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
  j.Close(']');
  j.Key("reasons").Open('{');
  for (const auto& [reason, count] : run.reasons) j.Key(reason).Count(count);
  j.Close('}');
}

void WriteLanguages(const RunSummary& run, JsonWriter& j) {
  j.Key("languages").Open('[');
  for (const auto& [language, l] : run.languages) {
    j.Open('{');
    j.Key("language").String(language);
    j.Key("kept_docs").Count(l.kept_docs);
    j.Key("kept_bytes").Count(l.kept_bytes);
    j.Key("kept_tokens").Count(l.kept_tokens);
    j.Key("from").String("counts.languages." + language);
    j.Close('}');
  }
  j.Close(']');
}

void WriteAssumptions(const Report& report, JsonWriter& j) {
  const CorpusOptions& corpus = report.config.corpus;
  const BudgetOptions& budget = report.config.budget;
  j.Key("assumptions").Open('{');
  j.Key("as_of").String(corpus.as_of);
  j.Key("input_bytes").Count(report.input_bytes);
  j.Key("input_bytes_from").String(report.input_bytes_from);
  j.Key("raw_bytes_measure").String(corpus.raw_bytes_measure);
  j.Key("total_raw_bytes").Number(corpus.total_raw_bytes);
  j.Key("scale").Number(report.scale);
  j.Key("raw_bytes_per_month").Number(corpus.raw_bytes_per_month);
  j.Key("days_per_month").Number(kDaysPerMonth);
  j.Key("demand").String(budget.demand);
  j.Key("tokens_per_parameter").Number(budget.tokens_per_parameter);
  j.Key("flops_per_parameter_token").Number(6);
  j.Key("repetition").String(budget.repetition);
  j.Key("max_epochs").Number(budget.max_epochs);
  j.Key("r_star").Number(budget.r_star);
  j.Key("training_tokens_per_unique_token")
      .Number(TrainingTokensPerUniqueToken(RepetitionFrom(budget)));
  if (report.demand && report.demand->growth) {
    const GrowthRule& rule = *report.demand->growth;
    j.Key("growth").Open('{');
    j.Key("base_name").String(budget.base_name);
    j.Key("base_date").String(DateFromDays(rule.base_day));
    j.Key("base_flops").Number(rule.base_flops);
    j.Key("compute_growth_per_year").Number(rule.growth_per_year);
    j.Close('}');
  }
  j.Key("horizon_end")
      .Date(report.demand ? std::optional(report.demand->horizon_end)
                          : std::nullopt);
  j.Close('}');
}

void WriteDemand(const Report& report, JsonWriter& j) {
  j.Key("demand").Open('[');
  if (report.demand) {
    const BudgetInput& input = *report.demand;
    for (const PlannedRun& run : input.runs) {
      const double need = UniqueTokensNeeded(run.tokens, input.repetition);
      j.Open('{');
      j.Key("name").String(run.name);
      j.Key("date").String(DateFromDays(run.day));
      j.Key("params").Number(run.params);
      j.Key("tokens").Number(run.tokens);
      j.Key("flops").Number(6 * run.params * run.tokens);
      j.Key("unique_tokens_needed").Number(need);
      j.Key("effective_tokens")
          .Number(EffectiveTokens(need, input.repetition.max_epochs,
                                  input.repetition.r_star));
      j.Close('}');
    }
  }
  j.Close(']');
}

void WriteModel(const ModelSize& size, JsonWriter& j) {
  j.Open('{');
  j.Key("params").Number(size.params);
  j.Key("tokens").Number(size.tokens);
  j.Key("flops").Number(size.flops);
  j.Close('}');
}

void WriteTiers(const Report& report, JsonWriter& j) {
  j.Key("tiers").Open('[');
  for (size_t t = 0; t < report.tiers.size(); ++t) {
    const TierReport& tier = report.tiers[t];
    j.Open('{');
    j.Key("name").String(tier.counts.name);
    j.Key("from").String(tier.counts.from);
    if (!tier.counts.definition.empty()) {
      j.Key("definition").String(tier.counts.definition);
    }
    j.Key("docs").Count(tier.counts.docs);
    j.Key("bytes").Count(tier.counts.bytes);
    j.Key("tokens").Count(tier.counts.tokens);
    j.Key("tokens_per_input_byte").Number(tier.tokens_per_input_byte);
    j.Key("unique_tokens_on_as_of").Number(tier.supply.tokens);
    j.Key("unique_tokens_per_month").Number(tier.supply.tokens_per_month);
    j.Key("largest_model_on_as_of");
    WriteModel(tier.largest_model, j);
    if (t < report.budgets.size()) {
      const TierBudget& budget = report.budgets[t];
      const BudgetInput& input = *report.demand;
      if (budget.first_short_run) {
        const PlannedRun& run = input.runs[*budget.first_short_run];
        j.Key("first_short_run").Open('{');
        j.Key("name").String(run.name);
        j.Key("date").String(DateFromDays(run.day));
        j.Close('}');
      } else {
        j.Key("first_short_run").Null();
      }
      j.Key("demand_exceeds_supply_from").Date(budget.crossing);
      j.Key("runs").Open('[');
      for (size_t i = 0; i < budget.runs.size(); ++i) {
        const RunBalance& balance = budget.runs[i];
        j.Open('{');
        j.Key("name").String(input.runs[i].name);
        j.Key("need").Number(balance.need);
        j.Key("supply").Number(balance.supply);
        j.Key("surplus").Number(balance.surplus);
        j.Key("enough_from").Date(balance.enough_from);
        j.Close('}');
      }
      j.Close(']');
    }
    j.Close('}');
  }
  j.Close(']');
}

// The review summary as it was read, with the file it comes from.
void WriteReview(const ReviewSummary& review, JsonWriter& j) {
  j.Key("review").Open('{');
  j.Key("file").String("review/summary.json");
  j.Key("reviewed").Count(review.reviewed);
  j.Key("keep").Count(review.keep);
  j.Key("drop").Count(review.drop);
  j.Key("tiers").Open('[');
  for (const TierPrecision& tier : review.tiers) {
    j.Open('{');
    j.Key("name").String(tier.name);
    j.Key("reviewed").Count(tier.reviewed);
    j.Key("keep").Count(tier.keep);
    j.Key("precision").Number(tier.precision);
    j.Key("precision_low").Number(tier.low);
    j.Key("precision_high").Number(tier.high);
    j.Close('}');
  }
  j.Close(']');
  j.Key("signals").Open('[');
  for (const SignalSeparation& signal : review.signals) {
    j.Open('{');
    j.Key("name").String(signal.name);
    j.Key("auc").Number(signal.auc);
    j.Key("kept_mean").Number(signal.kept_mean);
    j.Key("dropped_mean").Number(signal.dropped_mean);
    j.Key("kept").Count(signal.kept);
    j.Key("dropped").Count(signal.dropped);
    j.Close('}');
  }
  j.Close(']');
  j.Close('}');
}

}  // namespace

std::string ReportJson(const Report& report) {
  JsonWriter j;
  j.Open('{');
  j.Key("format").String(kReportFormat);
  WriteRun(report, j);
  j.Key("budget_config").Open('{');
  j.Key("path").String(report.config.path);
  j.Key("hash").String(report.config.hash);
  j.Key("resolved").String(report.config.resolved_toml);
  j.Close('}');
  WriteAssumptions(report, j);
  WriteTiers(report, j);
  WriteDemand(report, j);
  WriteFunnel(report.run, j);
  if (report.review) WriteReview(*report.review, j);
  WriteLanguages(report.run, j);
  j.Key("warnings").Open('[');
  for (const std::string& warning : report.warnings) j.String(warning);
  j.Close(']');
  j.Close('}');
  return j.Finish();
}

std::string ReportSummaryText(const Report& report) {
  std::string text;
  auto out = std::back_inserter(text);
  for (size_t t = 0; t < report.tiers.size(); ++t) {
    const TierReport& tier = report.tiers[t];
    fmt::format_to(out, "needle: tier {}: {} unique tokens{}", tier.counts.name,
                   ShortNumber(tier.supply.tokens),
                   report.config.corpus.as_of.empty()
                       ? ""
                       : " on " + report.config.corpus.as_of);
    if (t < report.budgets.size()) {
      const TierBudget& budget = report.budgets[t];
      const auto& runs = report.demand->runs;
      if (budget.first_short_run) {
        const PlannedRun& run = runs[*budget.first_short_run];
        fmt::format_to(out, "; first short run {} ({})", run.name,
                       DateFromDays(run.day));
      } else {
        text += "; no planned run is short";
      }
      if (budget.crossing) {
        fmt::format_to(out, "; demand exceeds supply from {}",
                       DateFromDays(*budget.crossing));
      }
    }
    text += '\n';
  }
  return text;
}

std::string ThresholdSweepJson(const ThresholdSweep& sweep) {
  std::string out = "{\"tier\":";
  AppendJsonString(sweep.tier, &out);
  out += ",\"signal\":";
  AppendJsonString(sweep.signal, &out);
  out += ",\"values\":[";
  for (size_t i = 0; i < sweep.values.size(); ++i) {
    if (i) out += ',';
    AppendJsonNumber(sweep.values[i], &out);
  }
  out += "],\"tiers\":[";
  for (size_t t = 0; t < sweep.tiers.size(); ++t) {
    const ThresholdSweep::Tier& tier = sweep.tiers[t];
    out += t ? ",\n {\"name\":" : "\n {\"name\":";
    AppendJsonString(tier.name, &out);
    out += fmt::format(",\"docs\":[{}],\"tokens\":[{}]}}",
                       fmt::join(tier.docs, ","), fmt::join(tier.tokens, ","));
  }
  out += "]}\n";
  return out;
}

std::optional<ThresholdSweep> ReadThresholdSweep(const std::string& out_dir) {
  const std::string path = out_dir + "/tiers/sweep.json";
  if (!std::filesystem::exists(path)) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.load(path).get(root)) return std::nullopt;
  ThresholdSweep sweep;
  std::string_view text;
  if (root["tier"].get(text)) return std::nullopt;
  sweep.tier = text;
  if (root["signal"].get(text)) return std::nullopt;
  sweep.signal = text;
  simdjson::dom::array array;
  if (root["values"].get(array)) return std::nullopt;
  for (simdjson::dom::element value : array) {
    double number = 0;
    if (value.get(number)) return std::nullopt;
    sweep.values.push_back(number);
  }
  if (root["tiers"].get(array)) return std::nullopt;
  for (simdjson::dom::element element : array) {
    ThresholdSweep::Tier& tier = sweep.tiers.emplace_back();
    if (element["name"].get(text)) return std::nullopt;
    tier.name = text;
    for (const char* key : {"docs", "tokens"}) {
      simdjson::dom::array counts;
      if (element[key].get(counts)) return std::nullopt;
      for (simdjson::dom::element count : counts) {
        uint64_t n = 0;
        if (count.get(n)) return std::nullopt;
        (std::string_view(key) == "docs" ? tier.docs : tier.tokens)
            .push_back(n);
      }
    }
  }
  return sweep;
}

Report WriteReport(const std::string& out_dir, const BudgetConfig& config) {
  Report report = BuildReport(ReadRunSummary(out_dir + "/run.json"), config);
  report.sweep = ReadThresholdSweep(out_dir);
  report.review = ReadReviewSummary(out_dir);
  WriteFilesAtomically({{out_dir + "/report.json", ReportJson(report)},
                        {out_dir + "/report.md", ReportMarkdown(report)},
                        {out_dir + "/report.html", ReportHtml(report)}});
  return report;
}

bool RewriteReport(const std::string& out_dir) {
  const std::string path = out_dir + "/report.json";
  if (!std::filesystem::exists(path)) return false;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view config_path;
  std::string_view resolved;
  if (parser.load(path).get(root) ||
      root["budget_config"]["path"].get(config_path) ||
      root["budget_config"]["resolved"].get(resolved)) {
    throw std::runtime_error(
        fmt::format("{}: no budget_config to rebuild the report with; run "
                    "`needle budget --run {} --config CONFIG`",
                    path, out_dir));
  }
  ConfigFile config = ConfigFile::Parse(resolved, std::string(config_path));
  WriteReport(out_dir, ReadBudgetConfig(config));
  return true;
}

}  // namespace needle
