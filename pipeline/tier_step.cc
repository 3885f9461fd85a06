#include "pipeline/tier_step.h"

#include <fmt/format.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "pipeline/atomic_file.h"
#include "pipeline/byte_source.h"
#include "pipeline/dedup_step.h"
#include "pipeline/encoder.h"
#include "pipeline/json_text.h"
#include "pipeline/shard_writer.h"
#include "pipeline/signal_store.h"
#include "pipeline/tier_write.h"

namespace needle {
namespace {

namespace fs = std::filesystem;

// Where each document of the run is, beside the table of its signals.
struct RunDocuments {
  // Per shard: its signal file's size and time (cheap to check again),
  // and the annotate step's record, hashed: which annotate output its
  // documents come from (the record names the config and the input, and a
  // copy of OUT keeps it).
  std::vector<std::string> signals_stamps;
  std::vector<std::string> annotated;
  std::vector<size_t> shard_begin;  // index of each shard's first document
  std::vector<uint8_t> passed;      // passed every stage: in staged/kept
  std::vector<uint64_t> bytes;
  std::vector<Reason> reasons;  // with dedup's decisions merged in
};

void SetSignal(const Signal& signal, SignalTable* table) {
  const size_t column = table->Find(signal.key);
  if (column == SIZE_MAX) return;
  if (const auto* integer = std::get_if<int64_t>(&signal.value)) {
    table->SetNumber(column, static_cast<double>(*integer));
  } else if (const auto* number = std::get_if<double>(&signal.value)) {
    table->SetNumber(column, *number);
  } else {
    table->SetString(column, std::get<std::string>(signal.value));
  }
}

// The size and time of a shard's signal file: cheap to compare, so that a
// resumed run or `needle status` sees the tier step done without reading
// the signals.
std::string SignalsStamp(const Shard& shard, const std::string& path) {
  return fmt::format("{} {} {}", shard.stem, fs::file_size(path),
                     fs::last_write_time(path).time_since_epoch().count());
}

// What a shard's marker records: the config, dedup's decisions, every
// shard's signals (keep_fraction ranks across shards, so any change redoes
// them all) and the resulting funnel, hashed.
std::string TieringKey(const RunConfig& config, const std::string& out_dir,
                       const std::vector<std::string>& signals_stamps,
                       std::string_view funnel_json) {
  std::string text =
      config.hash + "\n" + ReadFileOrEmpty(out_dir + "/dedup/done.txt");
  for (const std::string& stamp : signals_stamps) text += stamp + "\n";
  text += funnel_json;
  return fmt::format("{:016x}", XXH3_64bits(text.data(), text.size()));
}

// Step 1's input: every shard's stored signals, dedup's fate merged in,
// for the signals that `specs` read.
SignalTable LoadRun(const RunConfig& config, const std::vector<TierSpec>& specs,
                    std::span<const Shard> shards, const std::string& out_dir,
                    RunDocuments* run, std::vector<bool>* seen) {
  SignalTable table(SignalsTiersRead(specs));
  seen->assign(table.keys().size(), false);
  const size_t reason_column = table.Find("reason");
  const size_t dup_column = table.Find("dup_count");
  const Codec codec = MakeEncodeOptions(config).codec;
  StoredDocument doc;
  for (const Shard& shard : shards) {
    run->shard_begin.push_back(table.size());
    std::vector<DedupFate> fates;
    if (config.hasher) fates = ReadDedupFates(out_dir, shard);
    const std::string path = PathsFor(out_dir, shard, codec, true).signals;
    SignalStoreReader reader(path);
    run->signals_stamps.push_back(SignalsStamp(shard, path));
    size_t staged = 0;
    while (reader.Next(&doc)) {
      table.AddDocument();
      Reason reason = doc.reason;
      if (doc.passed_stages && config.hasher) {
        if (staged == fates.size()) {
          throw std::runtime_error(
              fmt::format("{}: more documents than dedup decisions", path));
        }
        const DedupFate& fate = fates[staged];
        reason = fate.reason;
        if (dup_column != SIZE_MAX) {
          table.SetNumber(dup_column, static_cast<double>(fate.cluster_size));
          (*seen)[dup_column] = true;
        }
      }
      staged += doc.passed_stages;
      table.SetString(reason_column, ReasonName(reason));
      (*seen)[reason_column] = true;
      for (const Signal& signal : doc.signals) {
        const size_t column = table.Find(signal.key);
        if (column != SIZE_MAX) (*seen)[column] = true;
        SetSignal(signal, &table);
      }
      run->passed.push_back(doc.passed_stages);
      run->bytes.push_back(doc.text_bytes);
      run->reasons.push_back(reason);
    }
    const std::string record =
        ReadFileOrEmpty(PathsFor(out_dir, shard, codec).record);
    run->annotated.push_back(fmt::format(
        "{} {:016x}", shard.stem, XXH3_64bits(record.data(), record.size())));
    if (config.hasher && staged != fates.size()) {
      throw std::runtime_error(
          fmt::format("{}: fewer documents than dedup decisions", path));
    }
  }
  run->shard_begin.push_back(table.size());
  return table;
}

void AddTo(TierTotals* totals, uint64_t bytes, uint64_t tokens) {
  ++totals->docs;
  totals->bytes += bytes;
  totals->tokens += tokens;
}

// `definitions`: the config lines `specs` were parsed from.
TierFunnel MakeFunnel(const std::vector<TierSpec>& specs,
                      const std::vector<std::string>& definitions,
                      const SignalTable& table, const RunDocuments& run,
                      const TierAssignment& assigned,
                      const std::vector<bool>& seen) {
  TierFunnel funnel;
  for (size_t t = 0; t < specs.size(); ++t) {
    TierFunnel::Tier& tier = funnel.tiers.emplace_back();
    tier.name = specs[t].name;
    tier.definition = definitions[t];
    if (t > 0) tier.fell_out = assigned.fell_out[t];
    tier.has_cutoff = !std::isnan(assigned.cutoff[t]);
    if (tier.has_cutoff) tier.cutoff = assigned.cutoff[t];
  }
  const SignalTable::Column& lang = table.column(table.Find("lang"));
  const SignalTable::Column& tokens = table.column(table.Find("tokens"));
  for (size_t doc = 0; doc < table.size(); ++doc) {
    const double count = tokens.numbers[doc];
    const uint64_t doc_tokens =
        std::isnan(count) ? 0 : static_cast<uint64_t>(count);
    const int highest = assigned.tier[doc];
    if (highest < 0) {
      AddTo(&funnel.below_first, run.bytes[doc], doc_tokens);
      ++funnel.below_first_reasons[std::string(
          ReasonName(run.reasons[doc] == Reason::kOk ? Reason::kBelowFirstTier
                                                     : run.reasons[doc]))];
      continue;
    }
    const std::string language =
        lang.strings[doc] < 0 ? "und" : table.word(lang.strings[doc]);
    for (int t = 0; t <= highest; ++t) {
      AddTo(&funnel.tiers[t].totals, run.bytes[doc], doc_tokens);
      AddTo(&funnel.tiers[t].languages[language], run.bytes[doc], doc_tokens);
    }
  }
  for (size_t k = 0; k < table.keys().size(); ++k) {
    const std::string& key = table.keys()[k];
    bool read = false;
    for (const TierSpec& spec : specs) {
      for (const TierCondition& c : spec.conditions) read |= c.signal == key;
    }
    if (read && !seen[k]) funnel.unseen_signals.push_back(key);
  }
  return funnel;
}

void AppendTotals(const TierTotals& totals, std::string* out) {
  fmt::format_to(std::back_inserter(*out),
                 "\"docs\":{},\"bytes\":{},\"tokens\":{}", totals.docs,
                 totals.bytes, totals.tokens);
}

}  // namespace

TierFunnel TierShards(const RunConfig& config, std::span<const Shard> shards,
                      const std::string& out_dir, bool write) {
  RunDocuments run;
  std::vector<bool> seen;
  const SignalTable table =
      LoadRun(config, config.tier_specs, shards, out_dir, &run, &seen);
  const TierAssignment assigned = AssignTiers(config.tier_specs, table);
  TierFunnel funnel = MakeFunnel(config.tier_specs, config.tiers.tiers, table,
                                 run, assigned, seen);
  if (!write) return funnel;

  const std::string funnel_json = TierFunnelJson(funnel);
  const std::string key =
      TieringKey(config, out_dir, run.signals_stamps, funnel_json);
  std::vector<std::string> tier_names;
  for (const TierSpec& spec : config.tier_specs)
    tier_names.push_back(spec.name);
  // All cores work on few shards as on many: with fewer shards than
  // threads, each shard compresses more frames at once.
  const size_t threads = oneapi::tbb::global_control::active_value(
      oneapi::tbb::global_control::max_allowed_parallelism);
  const size_t in_flight =
      std::max<size_t>(2, 2 * threads / std::max<size_t>(shards.size(), 1));
  oneapi::tbb::parallel_for(size_t{0}, shards.size(), [&](size_t s) {
    const size_t begin = run.shard_begin[s];
    const size_t count = run.shard_begin[s + 1] - begin;
    ShardTiering tiering;
    tiering.config = &config;
    tiering.tier_names = tier_names;
    tiering.out_dir = out_dir;
    tiering.shard = &shards[s];
    tiering.key = key;
    tiering.annotated = run.annotated[s];
    tiering.tiers = std::span(assigned.tier).subspan(begin, count);
    tiering.passed = std::span(run.passed).subspan(begin, count);
    tiering.reasons = std::span(run.reasons).subspan(begin, count);
    tiering.frames_in_flight = in_flight;
    WriteTierShard(tiering);
  });
  RemoveEmptyStagedFolders(out_dir);
  WriteFileAtomically(out_dir + "/tiers/funnel.json", funnel_json + "\n");
  return funnel;
}

bool TierShardsDone(const RunConfig& config, std::span<const Shard> shards,
                    const std::string& out_dir) {
  std::string funnel = ReadFileOrEmpty(out_dir + "/tiers/funnel.json");
  if (funnel.empty()) return false;
  funnel.pop_back();  // the newline TierShards adds
  const Codec codec = MakeEncodeOptions(config).codec;
  std::vector<std::string> signals_stamps;
  for (const Shard& shard : shards) {
    const std::string path = PathsFor(out_dir, shard, codec, true).signals;
    if (!fs::exists(path)) return false;
    signals_stamps.push_back(SignalsStamp(shard, path));
  }
  const std::string key = TieringKey(config, out_dir, signals_stamps, funnel);
  for (const Shard& shard : shards) {
    if (!TierShardDone(out_dir, shard, key)) return false;
  }
  return true;
}

std::vector<TierFunnel> SweepTiers(const RunConfig& config,
                                   std::span<const Shard> shards,
                                   const std::string& out_dir,
                                   std::string_view tier,
                                   std::string_view signal,
                                   const std::vector<double>& values) {
  std::vector<TierSpec> specs = config.tier_specs;
  TierCondition* swept = nullptr;
  for (TierSpec& spec : specs) {
    if (spec.name != tier) continue;
    for (TierCondition& condition : spec.conditions) {
      if (condition.signal == signal && condition.numeric && !swept) {
        swept = &condition;
      }
    }
  }
  if (swept == nullptr) {
    throw std::runtime_error(
        fmt::format("no tier '{}' with a numeric condition on '{}' to sweep",
                    tier, signal));
  }
  RunDocuments run;
  std::vector<bool> seen;
  const SignalTable table =
      LoadRun(config, specs, shards, out_dir, &run, &seen);
  std::vector<TierFunnel> funnels;
  for (const double value : values) {
    (swept->op == TierCondition::Op::kTop ? swept->high : swept->low) = value;
    const TierAssignment assigned = AssignTiers(specs, table);
    funnels.push_back(
        MakeFunnel(specs, config.tiers.tiers, table, run, assigned, seen));
  }
  return funnels;
}

std::string TierFunnelJson(const TierFunnel& funnel) {
  std::string out = "{\"tiers\":[";
  for (size_t t = 0; t < funnel.tiers.size(); ++t) {
    const TierFunnel::Tier& tier = funnel.tiers[t];
    out += t ? ",\n " : "\n ";
    out += "{\"name\":";
    AppendJsonString(tier.name, &out);
    out += ",\"definition\":";
    AppendJsonString(tier.definition, &out);
    out += ',';
    AppendTotals(tier.totals, &out);
    if (tier.has_cutoff) {
      out += ",\"keep_fraction_cutoff\":";
      AppendJsonNumber(tier.cutoff, &out);
    }
    out += ",\"languages\":{";
    bool first = true;
    for (const auto& [language, totals] : tier.languages) {
      if (!first) out += ',';
      first = false;
      AppendJsonString(language, &out);
      out += ":{";
      AppendTotals(totals, &out);
      out += '}';
    }
    out += "},\"fell_out\":[";
    const uint64_t before = t > 0 ? funnel.tiers[t - 1].totals.docs : 0;
    for (size_t c = 0; c < tier.fell_out.size(); ++c) {
      const auto& [condition, docs] = tier.fell_out[c];
      if (c) out += ',';
      out += "{\"condition\":";
      AppendJsonString(condition, &out);
      fmt::format_to(std::back_inserter(out), ",\"docs\":{},\"share\":", docs);
      AppendJsonNumber(
          before ? static_cast<double>(docs) / static_cast<double>(before)
                 : 0.0,
          &out);
      out += '}';
    }
    out += "]}";
  }
  out += "],\n\"below_first_tier\":{";
  AppendTotals(funnel.below_first, &out);
  out += ",\"reasons\":{";
  bool first = true;
  for (const auto& [reason, docs] : funnel.below_first_reasons) {
    if (!first) out += ',';
    first = false;
    AppendJsonString(reason, &out);
    fmt::format_to(std::back_inserter(out), ":{}", docs);
  }
  out += "}},\n\"unseen_signals\":[";
  for (size_t i = 0; i < funnel.unseen_signals.size(); ++i) {
    if (i) out += ',';
    AppendJsonString(funnel.unseen_signals[i], &out);
  }
  out += "]}";
  return out;
}

std::string TierFunnelText(const TierFunnel& funnel) {
  std::string out = fmt::format("{:<16} {:>12} {:>14} {:>14}\n", "tier", "docs",
                                "bytes", "tokens");
  for (const TierFunnel::Tier& tier : funnel.tiers) {
    fmt::format_to(std::back_inserter(out), "{:<16} {:>12} {:>14} {:>14}\n",
                   tier.name, tier.totals.docs, tier.totals.bytes,
                   tier.totals.tokens);
    for (const auto& [condition, docs] : tier.fell_out) {
      if (docs == 0) continue;
      fmt::format_to(std::back_inserter(out), "  - {} fell out: {}\n", docs,
                     condition);
    }
  }
  fmt::format_to(std::back_inserter(out), "{:<16} {:>12} {:>14} {:>14}\n",
                 "(below first)", funnel.below_first.docs,
                 funnel.below_first.bytes, funnel.below_first.tokens);
  for (const std::string& signal : funnel.unseen_signals) {
    fmt::format_to(std::back_inserter(out),
                   "warning: no document carries signal '{}': is its stage "
                   "in [pipeline].stages?\n",
                   signal);
  }
  return out;
}

}  // namespace needle
