#include "pipeline/dedup_step.h"

#include <fmt/format.h>
#include <oneapi/tbb/parallel_for.h>
#include <simdjson.h>
#include <xxhash.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <stdexcept>

#include "pipeline/atomic_file.h"
#include "pipeline/byte_source.h"
#include "pipeline/compress.h"
#include "pipeline/dedup_index.h"
#include "pipeline/encoder.h"
#include "pipeline/json_text.h"
#include "pipeline/shard_reader.h"
#include "pipeline/shard_writer.h"
#include "pipeline/signal_store.h"
#include "pipeline/utf8.h"

namespace needle {
namespace {

constexpr std::string_view kDedupStage = "dedup";

// --- Binary records: little-endian fixed-width fields, as the host writes
// them (outputs are read back on the same kind of machine).

template <class T>
void Put(T value, std::string* out) {
  out->append(reinterpret_cast<const char*>(&value), sizeof(value));
}

template <class T>
bool Take(std::string_view* in, T* value) {
  if (in->size() < sizeof(T)) return false;
  std::memcpy(value, in->data(), sizeof(T));
  in->remove_prefix(sizeof(T));
  return true;
}

bool TakeString(std::string_view* in, std::string_view* text) {
  uint32_t size = 0;
  if (!Take(in, &size) || in->size() < size) return false;
  *text = in->substr(0, size);
  in->remove_prefix(size);
  return true;
}

void PutString(std::string_view text, std::string* out) {
  Put(static_cast<uint32_t>(text.size()), out);
  out->append(text);
}

// A key record: id, length in characters, quality (NaN: none), keys.
struct KeyRecord {
  std::string_view id;
  DedupDocument document;
};

bool TakeKeyRecord(std::string_view* in, size_t bands, KeyRecord* record) {
  double quality = 0;
  DedupDocument& d = record->document;
  if (!TakeString(in, &record->id) || !Take(in, &d.length) ||
      !Take(in, &quality) || !Take(in, &d.keys.exact_hi) ||
      !Take(in, &d.keys.exact_lo)) {
    return false;
  }
  for (size_t b = 0; b < bands; ++b) {
    if (!Take(in, &d.keys.bands[b])) return false;
  }
  d.has_quality = !std::isnan(quality);
  d.quality = d.has_quality ? quality : 0;
  return true;
}

// A decision record, one per staged document.
enum class Fate : uint8_t {
  kKept = 0,
  kExactDuplicate = 1,
  kNearDuplicate = 2
};

struct DecisionRecord {
  Fate fate = Fate::kKept;
  uint64_t cluster_size = 1;
  std::string_view duplicate_of;  // the kept document's id, when removed
};

bool TakeDecision(std::string_view* in, DecisionRecord* record) {
  uint8_t fate = 0;
  if (!Take(in, &fate) || fate > 2 || !Take(in, &record->cluster_size)) {
    return false;
  }
  record->fate = static_cast<Fate>(fate);
  record->duplicate_of = {};
  return record->fate == Fate::kKept || TakeString(in, &record->duplicate_of);
}

std::string DecisionsPath(const std::string& out_dir, const Shard& shard) {
  return fmt::format("{}/dedup/decisions/{}.bin", out_dir, shard.stem);
}

std::string FinalRecordPath(const std::string& out_dir, const Shard& shard) {
  return fmt::format("{}/final/{}.json", out_dir, shard.stem);
}

// Step 2: numbers every staged document in input order, clusters them and
// writes one decision file per shard.
void Cluster(const RunConfig& config, std::span<const Shard> shards,
             const std::string& out_dir) {
  const size_t bands = config.dedup.bands;
  DedupIndex index(config.dedup, out_dir + "/dedup/spill");
  std::vector<std::string> ids;  // by global document number
  std::vector<uint64_t> shard_begin;
  uint64_t next_doc = 0;
  for (const Shard& shard : shards) {
    shard_begin.push_back(next_doc);
    const std::string path = PathsFor(out_dir, shard, Codec::kPlain).keys;
    const std::string bytes = ReadDecompressed(path);
    std::string_view in = bytes;
    KeyRecord record;
    while (!in.empty()) {
      if (!TakeKeyRecord(&in, bands, &record)) {
        throw std::runtime_error(fmt::format("{}: damaged key record", path));
      }
      index.Add(next_doc++, record.document);
      ids.emplace_back(record.id);
    }
  }
  shard_begin.push_back(next_doc);
  const std::vector<DedupDecision> decisions = index.Resolve();
  uint64_t clusters = 0;  // with more than one member
  uint64_t key_bytes = 0;
  for (const Shard& shard : shards) {
    key_bytes += std::filesystem::file_size(
        PathsFor(out_dir, shard, Codec::kPlain).keys);
  }
  for (uint64_t doc = 0; doc < decisions.size(); ++doc) {
    clusters +=
        decisions[doc].kept_doc == doc && decisions[doc].cluster_size > 1;
  }
  WriteFileAtomically(
      out_dir + "/dedup/stats.json",
      fmt::format("{{\"documents\":{},\"clusters_with_duplicates\":{},"
                  "\"key_bytes_per_document\":{:.1f},\"spilled_bytes\":{}}}",
                  decisions.size(), clusters,
                  decisions.empty() ? 0.0
                                    : static_cast<double>(key_bytes) /
                                          static_cast<double>(decisions.size()),
                  index.spilled_bytes()));

  for (size_t s = 0; s < shards.size(); ++s) {
    std::string out;
    for (uint64_t doc = shard_begin[s]; doc < shard_begin[s + 1]; ++doc) {
      const DedupDecision& decision = decisions[doc];
      const bool kept = decision.kept_doc == doc;
      const Fate fate = kept             ? Fate::kKept
                        : decision.exact ? Fate::kExactDuplicate
                                         : Fate::kNearDuplicate;
      Put(static_cast<uint8_t>(fate), &out);
      Put(decision.cluster_size, &out);
      if (!kept) PutString(ids[decision.kept_doc], &out);
    }
    WriteFileAtomically(DecisionsPath(out_dir, shards[s]), out);
  }
}

// Inserts `text` before the line's last `}}}` (closing signals, needle and
// the document: the encoder's layout), with a comma unless signals is empty.
void AddDupCount(std::string_view line, uint64_t cluster_size,
                 std::string* out) {
  const size_t end = line.rfind("}}}");
  out->append(line.substr(0, end));
  if (line[end - 1] != '{') out->push_back(',');
  fmt::format_to(std::back_inserter(*out), "\"dup_count\":{}", cluster_size);
  out->append(line.substr(end));
}

// The staged line as a rejected one: reason, stage and duplicate_of go
// first in its needle object, dup_count into its signals.
void AddDuplicateFields(std::string_view line, const DecisionRecord& decision,
                        std::string* out) {
  std::string with_count;
  AddDupCount(line, decision.cluster_size, &with_count);
  constexpr std::string_view kNeedle = ",\"needle\":{";
  const size_t at = with_count.rfind(kNeedle) + kNeedle.size();
  out->append(with_count, 0, at);
  out->append("\"reason\":");
  AppendJsonString(ReasonName(decision.fate == Fate::kExactDuplicate
                                  ? Reason::kExactDuplicate
                                  : Reason::kNearDuplicate),
                   out);
  out->append(",\"stage\":\"dedup\",\"duplicate_of\":");
  AppendJsonString(decision.duplicate_of, out);
  out->push_back(',');
  out->append(with_count, at);
}

// Appends the raw bytes of `path` (whole compressed frames) to `out`.
void CopyFile(const std::string& path, AtomicFile* out) {
  std::FILE* in = std::fopen(path.c_str(), "rb");
  if (in == nullptr) throw std::runtime_error(path + ": cannot open");
  std::string chunk(1 << 20, '\0');
  while (size_t n = std::fread(chunk.data(), 1, chunk.size(), in)) {
    out->Append(std::string_view(chunk.data(), n));
  }
  std::fclose(in);
}

// A removed document no longer counts as kept for its language: reads its
// language, text bytes and tokens back from the staged line.
void UncountKeptLanguage(std::string_view line, const InputOptions& input,
                         simdjson::dom::parser& parser,
                         ShardCounters* counters) {
  simdjson::dom::element root;
  std::string_view text;
  std::string_view language;
  if (parser.parse(line.data(), line.size(), true).get(root) ||
      root[input.text_field].get(text) ||
      root["needle"]["signals"]["lang"].get(language)) {
    return;  // no language recorded: nothing counted
  }
  const auto it = counters->languages.find(language);
  if (it == counters->languages.end()) return;
  int64_t tokens = 0;
  if (root["needle"]["signals"]["tokens"].get(tokens)) tokens = 0;
  LanguageCounts& counts = it->second;
  --counts.kept_docs;
  counts.kept_bytes -= text.size();
  counts.kept_tokens -= static_cast<uint64_t>(tokens);
}

// Step 3's counting for a shard whose staged/ the tier step has deleted
// (pipeline/tier_write.h), when its final record was lost: the staged
// documents are the stored signals' records that passed every stage, and a
// removed one's language, text bytes and tokens are among its signals, so
// the counts equal UncountKeptLanguage's from the staged lines.
void CountFromSignals(const std::string& signals_path,
                      const std::string& decisions_path,
                      std::string_view* decisions, ShardCounters* counters,
                      StageCounters* stage) {
  SignalStoreReader reader(signals_path);
  StoredDocument doc;
  DecisionRecord decision;
  while (reader.Next(&doc)) {
    if (!doc.passed_stages) continue;
    if (!TakeDecision(decisions, &decision)) {
      throw std::runtime_error(fmt::format(
          "{}: fewer decisions than staged documents", decisions_path));
    }
    ++stage->docs_in;
    if (decision.fate == Fate::kKept) {
      ++stage->docs_out;
      continue;
    }
    ++stage->rejects[static_cast<int>(decision.fate == Fate::kExactDuplicate
                                          ? Reason::kExactDuplicate
                                          : Reason::kNearDuplicate)];
    const std::string* language = nullptr;
    int64_t tokens = 0;
    for (const Signal& signal : doc.signals) {
      if (signal.key == "lang") {
        language = std::get_if<std::string>(&signal.value);
      } else if (signal.key == "tokens") {
        if (const auto* count = std::get_if<int64_t>(&signal.value)) {
          tokens = *count;
        }
      }
    }
    if (language == nullptr) continue;
    const auto it = counters->languages.find(*language);
    if (it == counters->languages.end()) continue;
    --it->second.kept_docs;
    it->second.kept_bytes -= doc.text_bytes;
    it->second.kept_tokens -= static_cast<uint64_t>(tokens);
  }
}

// Step 3 for one shard: streams the staged documents in batches of lines.
ShardRecord Finalize(const RunConfig& config, const Shard& shard,
                     const ShardRecord& annotated, const std::string& out_dir,
                     const std::string& cluster_hash, bool write_outputs) {
  const EncodeOptions encode = MakeEncodeOptions(config);
  const ShardPaths staged = PathsFor(out_dir, shard, encode.codec, true);
  const ShardPaths final_paths = PathsFor(out_dir, shard, encode.codec);
  const std::string decisions_path = DecisionsPath(out_dir, shard);
  const std::string decisions_bytes = ReadDecompressed(decisions_path);
  std::string_view decisions = decisions_bytes;

  std::unique_ptr<AtomicFile> kept;
  std::unique_ptr<AtomicFile> rejected;
  if (write_outputs) {
    kept = std::make_unique<AtomicFile>(final_paths.kept);
    std::remove(final_paths.rejected.c_str());
  }
  if (write_outputs && std::filesystem::exists(staged.rejected)) {
    rejected = std::make_unique<AtomicFile>(final_paths.rejected);
    CopyFile(staged.rejected, rejected.get());  // the stages' rejects
  }

  ShardRecord record = annotated;
  simdjson::dom::parser parser;
  StageCounters stage;
  stage.name = std::string(kDedupStage);
  Shard staged_shard = shard;
  staged_shard.path = staged.kept;
  // A staged line is its input line plus the needle object, so it may
  // exceed max_line_bytes where the input line did not.
  InputOptions staged_input = config.input;
  staged_input.max_line_bytes = 2 * config.input.max_line_bytes + (1 << 20);
  const bool from_signals =
      !write_outputs && !std::filesystem::exists(staged.kept);
  if (from_signals) {
    CountFromSignals(staged.signals, decisions_path, &decisions,
                     &record.counters, &stage);
  }
  std::optional<ShardReader> reader;
  if (!from_signals) reader.emplace(staged_shard, staged_input);
  DecisionRecord decision;
  std::string kept_plain;
  std::string rejected_plain;
  std::string frame;
  for (bool more = !from_signals; more;) {
    Batch batch;
    more = reader->Next(&batch);
    kept_plain.clear();
    rejected_plain.clear();
    for (const Document& doc : batch.docs) {
      if (doc.reason != Reason::kOk) {
        throw std::runtime_error(fmt::format(
            "{}: damaged at line {}: {}", staged.kept, doc.line, doc.detail));
      }
      if (!TakeDecision(&decisions, &decision)) {
        throw std::runtime_error(fmt::format(
            "{}: fewer decisions than staged documents", decisions_path));
      }
      ++stage.docs_in;
      if (decision.fate == Fate::kKept) {
        ++stage.docs_out;
        if (!write_outputs) continue;
        AddDupCount(doc.raw, decision.cluster_size, &kept_plain);
        kept_plain.push_back('\n');
        continue;
      }
      ++stage.rejects[static_cast<int>(decision.fate == Fate::kExactDuplicate
                                           ? Reason::kExactDuplicate
                                           : Reason::kNearDuplicate)];
      if (!record.counters.languages.empty()) {
        UncountKeptLanguage(doc.raw, config.input, parser, &record.counters);
      }
      if (write_outputs && encode.write_rejected) {
        AddDuplicateFields(doc.raw, decision, &rejected_plain);
        rejected_plain.push_back('\n');
      }
    }
    if (!kept_plain.empty()) {
      frame.clear();
      AppendCompressedFrame(encode.codec, encode.level, kept_plain, &frame);
      kept->Append(frame);
    }
    if (!rejected_plain.empty()) {
      if (!rejected) {
        rejected = std::make_unique<AtomicFile>(final_paths.rejected);
      }
      frame.clear();
      AppendCompressedFrame(encode.codec, encode.level, rejected_plain, &frame);
      rejected->Append(frame);
    }
  }
  if (!decisions.empty()) {
    throw std::runtime_error(fmt::format(
        "{}: more decisions than staged documents", decisions_path));
  }
  if (kept && kept->bytes_appended() == 0) {
    kept->Append(EmptyStream(encode.codec, encode.level));
  }
  if (kept) kept->Commit();
  if (rejected) rejected->Commit();

  record.config_hash = annotated.config_hash + "+" + cluster_hash;
  ShardCounters& c = record.counters;
  const uint64_t removed = stage.docs_in - stage.docs_out;
  c.kept -= removed;
  c.rejected += removed;
  for (int i = 0; i < kReasonCount; ++i) c.reasons[i] += stage.rejects[i];
  c.stages.push_back(stage);
  WriteFileAtomically(FinalRecordPath(out_dir, shard), ShardRecordJson(record));
  return record;
}

}  // namespace

std::vector<DedupFate> ReadDedupFates(const std::string& out_dir,
                                      const Shard& shard) {
  const std::string path = DecisionsPath(out_dir, shard);
  const std::string bytes = ReadDecompressed(path);
  std::string_view in = bytes;
  std::vector<DedupFate> fates;
  DecisionRecord decision;
  while (!in.empty()) {
    if (!TakeDecision(&in, &decision)) {
      throw std::runtime_error(fmt::format("{}: damaged decision", path));
    }
    DedupFate& fate = fates.emplace_back();
    fate.reason = decision.fate == Fate::kKept ? Reason::kOk
                  : decision.fate == Fate::kExactDuplicate
                      ? Reason::kExactDuplicate
                      : Reason::kNearDuplicate;
    fate.cluster_size = decision.cluster_size;
    fate.duplicate_of = std::string(decision.duplicate_of);
  }
  return fates;
}

void AppendWithDedupFate(std::string_view line, const DedupFate& fate,
                         std::string* out) {
  if (fate.reason == Reason::kOk) {
    AddDupCount(line, fate.cluster_size, out);
    return;
  }
  DecisionRecord decision;
  decision.fate = fate.reason == Reason::kExactDuplicate ? Fate::kExactDuplicate
                                                         : Fate::kNearDuplicate;
  decision.cluster_size = fate.cluster_size;
  decision.duplicate_of = fate.duplicate_of;
  AddDuplicateFields(line, decision, out);
}

void AppendDedupRecords(const MinHasher& hasher, Batch* batch) {
  const size_t bands = hasher.options().bands;
  std::string& out = batch->dedup_records;
  DedupKeys keys;
  for (const Document& doc : batch->docs) {
    if (!doc.ok()) continue;
    hasher.Compute(doc.text, &keys);
    const auto length = static_cast<uint64_t>(CountCodePoints(doc.text));
    const auto* score = doc.FindSignal<double>("quality_score");
    const double quality =
        score ? *score : std::numeric_limits<double>::quiet_NaN();
    PutString(doc.id, &out);
    Put(length, &out);
    Put(quality, &out);
    Put(keys.exact_hi, &out);
    Put(keys.exact_lo, &out);
    for (size_t b = 0; b < bands; ++b) Put(keys.bands[b], &out);
  }
}

std::string ClusterInputsHash(const std::vector<ShardRecord>& annotated) {
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  for (const ShardRecord& record : annotated) {
    const std::string json = ShardRecordJson(record);
    XXH3_64bits_update(state, json.data(), json.size());
  }
  const uint64_t hash = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return fmt::format("{:016x}", hash);
}

bool IsClustered(const std::string& out_dir, const std::string& cluster_hash) {
  const std::string marker = out_dir + "/dedup/done.txt";
  return std::filesystem::exists(marker) &&
         ReadDecompressed(marker) == cluster_hash + "\n";
}

bool ClusterShards(const RunConfig& config, std::span<const Shard> shards,
                   const std::string& out_dir,
                   const std::string& cluster_hash) {
  if (IsClustered(out_dir, cluster_hash)) return false;
  const std::string marker = out_dir + "/dedup/done.txt";
  std::remove(marker.c_str());
  Cluster(config, shards, out_dir);
  WriteFileAtomically(marker, cluster_hash + "\n");
  return true;
}

std::optional<ShardRecord> ReadFinalRecord(const std::string& out_dir,
                                           const Shard& shard,
                                           const ShardRecord& annotated,
                                           const std::string& cluster_hash) {
  std::optional<ShardRecord> done =
      ReadShardRecord(FinalRecordPath(out_dir, shard));
  if (done && done->config_hash == annotated.config_hash + "+" + cluster_hash) {
    return done;
  }
  return std::nullopt;
}

ShardRecord FinalizeShard(const RunConfig& config, const Shard& shard,
                          const ShardRecord& annotated,
                          const std::string& out_dir,
                          const std::string& cluster_hash, bool write_outputs) {
  std::optional<ShardRecord> done =
      ReadFinalRecord(out_dir, shard, annotated, cluster_hash);
  if (done) return std::move(*done);
  return Finalize(config, shard, annotated, out_dir, cluster_hash,
                  write_outputs);
}

std::vector<ShardRecord> DeduplicateShards(
    const RunConfig& config, std::span<const Shard> shards,
    const std::vector<ShardRecord>& annotated, const std::string& out_dir,
    bool write_outputs) {
  const std::string cluster_hash = ClusterInputsHash(annotated);
  // A new clustering redoes every shard's step 3, whatever its record says.
  const bool clustered = ClusterShards(config, shards, out_dir, cluster_hash);
  std::vector<ShardRecord> final_records(shards.size());
  oneapi::tbb::parallel_for(size_t{0}, shards.size(), [&](size_t s) {
    final_records[s] =
        clustered ? Finalize(config, shards[s], annotated[s], out_dir,
                             cluster_hash, write_outputs)
                  : FinalizeShard(config, shards[s], annotated[s], out_dir,
                                  cluster_hash, write_outputs);
  });
  return final_records;
}

}  // namespace needle
