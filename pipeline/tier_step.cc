#include "pipeline/tier_step.h"

#include <fmt/format.h>
#include <oneapi/tbb/parallel_for.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "pipeline/atomic_file.h"
#include "pipeline/compress.h"
#include "pipeline/dedup_step.h"
#include "pipeline/encoder.h"
#include "pipeline/json_text.h"
#include "pipeline/shard_reader.h"
#include "pipeline/shard_writer.h"
#include "pipeline/signal_store.h"

namespace needle {
namespace {

namespace fs = std::filesystem;

// Where each document of the run is, beside the table of its signals.
struct RunDocuments {
  std::string signals_stamp;        // sizes and times of the signal files
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

// One line of RunDocuments::signals_stamp.
std::string SignalsStamp(const Shard& shard, const std::string& path) {
  return fmt::format("{} {} {}\n", shard.stem, fs::file_size(path),
                     fs::last_write_time(path).time_since_epoch().count());
}

// Step 1's input: every shard's stored signals, dedup's fate merged in.
SignalTable LoadRun(const RunConfig& config, std::span<const Shard> shards,
                    const std::string& out_dir, RunDocuments* run,
                    std::vector<bool>* seen) {
  SignalTable table(SignalsTiersRead(config.tier_specs));
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
    run->signals_stamp += SignalsStamp(shard, path);
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

TierFunnel MakeFunnel(const RunConfig& config, const SignalTable& table,
                      const RunDocuments& run, const TierAssignment& assigned,
                      const std::vector<bool>& seen) {
  TierFunnel funnel;
  const std::vector<TierSpec>& specs = config.tier_specs;
  for (size_t t = 0; t < specs.size(); ++t) {
    TierFunnel::Tier& tier = funnel.tiers.emplace_back();
    tier.name = specs[t].name;
    tier.definition = config.tiers.tiers[t];
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

// A shard's staged documents of one kind (kept or rejected by the stages),
// one line at a time.
class StagedLines {
 public:
  StagedLines(const RunConfig& config, const Shard& shard, std::string path)
      : shard_(shard), input_(config.input) {
    shard_.path = std::move(path);
    // A staged line is its input line plus the needle object.
    input_.max_line_bytes = 2 * config.input.max_line_bytes + (1 << 20);
    if (fs::exists(shard_.path)) {
      reader_ = std::make_unique<ShardReader>(shard_, input_);
    }
  }

  std::string_view Next() {
    while (next_ == batch_.docs.size()) {
      if (!reader_ || !more_) {
        throw std::runtime_error(fmt::format(
            "{}: fewer staged documents than stored signals", shard_.path));
      }
      batch_ = Batch();
      more_ = reader_->Next(&batch_);
      next_ = 0;
    }
    const Document& doc = batch_.docs[next_++];
    if (doc.reason != Reason::kOk) {
      throw std::runtime_error(fmt::format("{}: damaged at line {}: {}",
                                           shard_.path, doc.line, doc.detail));
    }
    return doc.raw;
  }

 private:
  Shard shard_;
  InputOptions input_;
  std::unique_ptr<ShardReader> reader_;
  Batch batch_;
  size_t next_ = 0;
  bool more_ = true;
};

// Inserts `fields` (ending with a comma) at the start of the line's needle
// object, the encoder's last field.
void AppendWithNeedleFields(std::string_view line, std::string_view fields,
                            std::string* out) {
  constexpr std::string_view kNeedle = ",\"needle\":{";
  const size_t at = line.rfind(kNeedle) + kNeedle.size();
  out->append(line.substr(0, at));
  out->append(fields);
  out->append(line.substr(at));
}

std::string TierFilePath(const std::string& out_dir, std::string_view tier,
                         const Shard& shard, Codec codec) {
  return fmt::format("{}/tiers/{}/{}.jsonl{}", out_dir, tier, shard.stem,
                     CodecExtension(codec));
}

// Removes what an earlier run (maybe with other tiers) wrote for `shard`.
void RemoveTierFiles(const std::string& out_dir, const Shard& shard,
                     Codec codec) {
  const fs::path root = fs::path(out_dir) / "tiers";
  if (!fs::exists(root)) return;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (!entry.is_directory() || entry.path().filename() == "done") continue;
    fs::remove(entry.path() /
               (shard.stem + ".jsonl" + std::string(CodecExtension(codec))));
  }
}

std::string MarkerPath(const std::string& out_dir, const Shard& shard) {
  return fmt::format("{}/tiers/done/{}.txt", out_dir, shard.stem);
}

std::string ReadMarker(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Step 2 for one shard: each document appended to its highest tier's file.
void WriteShard(const RunConfig& config, const Shard& shard,
                const std::string& out_dir, const RunDocuments& run,
                size_t first_doc, std::span<const int16_t> tiers) {
  const EncodeOptions encode = MakeEncodeOptions(config);
  const ShardPaths staged = PathsFor(out_dir, shard, encode.codec, true);
  const ShardPaths final_paths = PathsFor(out_dir, shard, encode.codec);
  std::remove(MarkerPath(out_dir, shard).c_str());
  RemoveTierFiles(out_dir, shard, encode.codec);
  std::remove(final_paths.rejected.c_str());

  std::vector<DedupFate> fates;
  if (config.hasher) fates = ReadDedupFates(out_dir, shard);
  StagedLines kept(config, shard, staged.kept);
  StagedLines rejected(config, shard, staged.rejected);

  const size_t tier_count = config.tier_specs.size();
  // Index tier_count is rejected/: documents below the first tier.
  std::vector<std::unique_ptr<AtomicFile>> files(tier_count + 1);
  std::vector<std::string> plain(tier_count + 1);
  std::vector<std::string> prefix(tier_count + 1);
  for (size_t t = 0; t < tier_count; ++t) {
    prefix[t] = "\"tier\":";
    AppendJsonString(config.tier_specs[t].name, &prefix[t]);
    prefix[t] += ',';
  }
  auto flush = [&](size_t t, bool force) {
    if (plain[t].empty() || (!force && plain[t].size() < (1u << 20))) return;
    if (!files[t]) {
      files[t] = std::make_unique<AtomicFile>(
          t == tier_count ? final_paths.rejected
                          : TierFilePath(out_dir, config.tier_specs[t].name,
                                         shard, encode.codec));
    }
    std::string frame;
    AppendCompressedFrame(encode.codec, encode.level, plain[t], &frame);
    files[t]->Append(frame);
    plain[t].clear();
  };

  std::string with_fate;
  size_t staged_index = 0;
  for (size_t i = 0; i < tiers.size(); ++i) {
    const size_t doc = first_doc + i;
    std::string_view line;
    if (run.passed[doc]) {
      line = kept.Next();
      if (config.hasher) {
        with_fate.clear();
        AppendWithDedupFate(line, fates[staged_index], &with_fate);
        line = with_fate;
      }
      ++staged_index;
    } else {
      line = rejected.Next();
    }
    if (tiers[i] >= 0) {
      const auto t = static_cast<size_t>(tiers[i]);
      AppendWithNeedleFields(line, prefix[t], &plain[t]);
      plain[t] += '\n';
      flush(t, false);
    } else if (config.output.write_rejected) {
      std::string& out = plain[tier_count];
      if (run.reasons[doc] == Reason::kOk) {
        AppendWithNeedleFields(line,
                               "\"reason\":\"below_first_tier\","
                               "\"stage\":\"tiers\",",
                               &out);
      } else {
        out.append(line);
      }
      out += '\n';
      flush(tier_count, false);
    }
  }
  for (size_t t = 0; t <= tier_count; ++t) {
    flush(t, true);
    if (files[t]) files[t]->Commit();
  }
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
  const SignalTable table = LoadRun(config, shards, out_dir, &run, &seen);
  const TierAssignment assigned = AssignTiers(config.tier_specs, table);
  TierFunnel funnel = MakeFunnel(config, table, run, assigned, seen);
  if (!write) return funnel;

  // A shard is rewritten unless its marker shows this very config and run:
  // keep_fraction ranks across shards, so any change redoes them all.
  const std::string marker =
      fmt::format("{}\n{}{}", config.hash,
                  ReadMarker(out_dir + "/dedup/done.txt"), run.signals_stamp);
  oneapi::tbb::parallel_for(size_t{0}, shards.size(), [&](size_t s) {
    const std::string path = MarkerPath(out_dir, shards[s]);
    if (ReadMarker(path) == marker + TierFunnelJson(funnel)) return;
    const size_t begin = run.shard_begin[s];
    const size_t end = run.shard_begin[s + 1];
    WriteShard(config, shards[s], out_dir, run, begin,
               std::span(assigned.tier).subspan(begin, end - begin));
    WriteFileAtomically(path, marker + TierFunnelJson(funnel));
  });
  WriteFileAtomically(out_dir + "/tiers/funnel.json",
                      TierFunnelJson(funnel) + "\n");
  return funnel;
}

bool TierShardsDone(const RunConfig& config, std::span<const Shard> shards,
                    const std::string& out_dir) {
  const std::string funnel = ReadMarker(out_dir + "/tiers/funnel.json");
  if (funnel.empty()) return false;
  const Codec codec = MakeEncodeOptions(config).codec;
  std::string signals_stamp;
  for (const Shard& shard : shards) {
    const std::string path = PathsFor(out_dir, shard, codec, true).signals;
    if (!fs::exists(path)) return false;
    signals_stamp += SignalsStamp(shard, path);
  }
  // TierShards' markers, with the funnel it wrote after them.
  const std::string marker = fmt::format(
      "{}\n{}{}{}", config.hash, ReadMarker(out_dir + "/dedup/done.txt"),
      signals_stamp, std::string_view(funnel).substr(0, funnel.size() - 1));
  for (const Shard& shard : shards) {
    if (ReadMarker(MarkerPath(out_dir, shard)) != marker) return false;
  }
  return true;
}

std::vector<TierFunnel> SweepTiers(const RunConfig& config,
                                   std::span<const Shard> shards,
                                   const std::string& out_dir,
                                   std::string_view tier,
                                   std::string_view signal,
                                   const std::vector<double>& values) {
  TierCondition* swept = nullptr;
  RunConfig swept_config;
  swept_config.input = config.input;
  swept_config.output = config.output;
  swept_config.tiers = config.tiers;
  swept_config.tier_specs = config.tier_specs;
  if (config.hasher)
    swept_config.hasher = std::make_unique<MinHasher>(config.dedup);
  swept_config.dedup = config.dedup;
  for (TierSpec& spec : swept_config.tier_specs) {
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
  const SignalTable table = LoadRun(swept_config, shards, out_dir, &run, &seen);
  std::vector<TierFunnel> funnels;
  for (const double value : values) {
    (swept->op == TierCondition::Op::kTop ? swept->high : swept->low) = value;
    const TierAssignment assigned = AssignTiers(swept_config.tier_specs, table);
    funnels.push_back(MakeFunnel(swept_config, table, run, assigned, seen));
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
