#include "pipeline/tune.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <toml++/toml.h>

#include <charconv>
#include <cmath>
#include <stdexcept>

#include "pipeline/atomic_file.h"
#include "pipeline/json_text.h"
#include "pipeline/report.h"
#include "pipeline/shard.h"
#include "pipeline/tier_step.h"

namespace needle {
namespace {

// Sections tune may change: they only re-sort and re-project.
constexpr std::string_view kTunable[] = {"tiers", "budget", "corpus"};

// Names the sections (other than the tunable ones) that differ.
std::string DifferingSections(std::string_view run_toml,
                              std::string_view new_toml) {
  toml::table before = toml::parse(run_toml);
  toml::table after = toml::parse(new_toml);
  std::string differ;
  auto consider = [&](std::string_view name) {
    for (std::string_view tunable : kTunable) {
      if (name == tunable) return;
    }
    const toml::node* a = before.get(name);
    const toml::node* b = after.get(name);
    const bool same = a && b && a->is_table() && b->is_table() &&
                      *a->as_table() == *b->as_table();
    if (!same &&
        differ.find("[" + std::string(name) + "]") == std::string::npos) {
      differ += fmt::format("{}[{}]", differ.empty() ? "" : ", ", name);
    }
  };
  for (const auto& [key, value] : before) consider(key.str());
  for (const auto& [key, value] : after) consider(key.str());
  return differ;
}

struct Sweep {
  std::string tier, signal;
  std::vector<double> values;
};

Sweep ParseSweep(const std::string& text) {
  const size_t eq = text.find('=');
  const size_t dot = text.find('.');
  const auto fail = [&] {
    return std::runtime_error(
        fmt::format("--sweep {}: expected TIER.SIGNAL=FROM:TO:STEP, e.g. "
                    "amateur.quality_score=0.3:0.9:0.1",
                    text));
  };
  if (eq == std::string::npos || dot == std::string::npos || dot > eq) {
    throw fail();
  }
  Sweep sweep{text.substr(0, dot), text.substr(dot + 1, eq - dot - 1), {}};
  double range[3];
  std::string_view rest = std::string_view(text).substr(eq + 1);
  for (int i = 0; i < 3; ++i) {
    const size_t end = i < 2 ? rest.find(':') : rest.size();
    if (end == std::string_view::npos) throw fail();
    const auto [ptr, error] =
        std::from_chars(rest.data(), rest.data() + end, range[i]);
    if (error != std::errc() || ptr != rest.data() + end) throw fail();
    rest.remove_prefix(std::min(rest.size(), end + 1));
  }
  const auto [from, to, step] = range;
  if (!(step > 0) || to < from || (to - from) / step > 10000) throw fail();
  for (int64_t i = 0; from + static_cast<double>(i) * step <= to + step * 1e-9;
       ++i) {
    // Rounded to the step's precision, so 0.1 steps print as 0.3, not
    // 0.30000000000000004.
    const double value = from + static_cast<double>(i) * step;
    sweep.values.push_back(std::round(value * 1e9) / 1e9);
  }
  return sweep;
}

std::string SweepTable(const Sweep& sweep,
                       const std::vector<TierFunnel>& funnels) {
  std::string out = fmt::format("{:>12}", sweep.signal.substr(0, 12));
  for (const TierFunnel::Tier& tier : funnels.front().tiers) {
    out += fmt::format(" {:>14} {:>16}", tier.name + " docs",
                       tier.name + " tokens");
  }
  out += '\n';
  for (size_t i = 0; i < funnels.size(); ++i) {
    out += fmt::format("{:>12}", sweep.values[i]);
    for (const TierFunnel::Tier& tier : funnels[i].tiers) {
      out +=
          fmt::format(" {:>14} {:>16}", tier.totals.docs, tier.totals.tokens);
    }
    out += '\n';
  }
  return out;
}

// run.json with the config and the funnel fields replaced.
std::string RetunedRunJson(const simdjson::dom::object& run,
                           const RunConfig& config, const TierFunnel& funnel) {
  std::string out = "{";
  for (auto field : run) {
    const std::string_view key = field.key;
    if (key == "tiers" || key == "below_first_tier" ||
        key == "unseen_signals") {
      continue;
    }
    if (out.size() > 1) out += ",\n";
    AppendJsonString(key, &out);
    out += ':';
    if (key == "config") {
      out += "{\"path\":";
      AppendJsonString(config.path, &out);
      out += ",\"hash\":";
      AppendJsonString(config.hash, &out);
      out += ",\"resolved\":";
      AppendJsonString(config.resolved_toml, &out);
      out += '}';
    } else {
      out += simdjson::minify(field.value);
    }
  }
  const std::string json = TierFunnelJson(funnel);
  out += ",\n" + json.substr(1, json.size() - 2) + "}\n";
  return out;
}

}  // namespace

std::string TuneRun(const RunConfig& config, const TuneRequest& request) {
  if (!config.tiers.enabled) {
    throw std::runtime_error("the new config has [tiers] enabled = false");
  }
  const std::string run_path = request.run_dir + "/run.json";
  simdjson::dom::parser parser;
  simdjson::dom::object run;
  if (parser.load(run_path).get(run)) {
    throw std::runtime_error(run_path + ": cannot read a run summary");
  }
  std::string_view run_toml;
  if (run["config"]["resolved"].get(run_toml)) {
    throw std::runtime_error(run_path + ": no config.resolved");
  }
  const std::string differ = DifferingSections(run_toml, config.resolved_toml);
  if (!differ.empty()) {
    throw std::runtime_error(fmt::format(
        "tune re-applies [tiers] and [budget] only; {} differ from the run's "
        "config, so run `needle run` again",
        differ));
  }
  const toml::table run_config = toml::parse(run_toml);
  if (!run_config["tiers"]["enabled"].value_or(false)) {
    throw std::runtime_error(
        "the run was made without [tiers] enabled = true, so it stored no "
        "signals; run it again with tiers enabled");
  }
  std::vector<std::string> inputs;
  simdjson::dom::array listed;
  if (run["inputs"].get(listed)) {
    throw std::runtime_error(run_path + ": no inputs");
  }
  for (simdjson::dom::element input : listed) {
    std::string_view path;
    if (input["path"].get(path)) {
      throw std::runtime_error(run_path + ": an input has no path");
    }
    inputs.emplace_back(path);
  }
  const std::vector<Shard> shards = FindShards(inputs);

  if (!request.sweep.empty()) {
    const Sweep sweep = ParseSweep(request.sweep);
    const std::vector<TierFunnel> funnels =
        SweepTiers(config, shards, request.run_dir, sweep.tier, sweep.signal,
                   sweep.values);
    // Kept with the run, so that report.html plots it.
    ThresholdSweep kept{sweep.tier, sweep.signal, sweep.values, {}};
    for (size_t t = 0; t < funnels.front().tiers.size(); ++t) {
      ThresholdSweep::Tier& tier = kept.tiers.emplace_back();
      tier.name = funnels.front().tiers[t].name;
      for (const TierFunnel& funnel : funnels) {
        tier.docs.push_back(funnel.tiers[t].totals.docs);
        tier.tokens.push_back(funnel.tiers[t].totals.tokens);
      }
    }
    WriteFileAtomically(request.run_dir + "/tiers/sweep.json",
                        ThresholdSweepJson(kept));
    WriteReport(request.run_dir, config.budget);
    return SweepTable(sweep, funnels);
  }
  const TierFunnel funnel =
      TierShards(config, shards, request.run_dir, request.write);
  if (request.write) {
    WriteFileAtomically(run_path, RetunedRunJson(run, config, funnel));
    // The report reads run.json, so it follows the new funnel.
    WriteReport(request.run_dir, config.budget);
  }
  return TierFunnelText(funnel);
}

}  // namespace needle
