#include "pipeline/run_summary.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <stdexcept>

namespace needle {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// Reads run.json fields, naming the first one that is missing or mistyped.
class Fields {
 public:
  explicit Fields(std::string path) : path_(std::move(path)) {}

  template <class T>
  T Get(const element& parent, std::string_view key, std::string_view where) {
    T value{};
    if (parent[key].get(value)) Fail(where, key);
    return value;
  }
  std::string String(const element& parent, std::string_view key,
                     std::string_view where) {
    return std::string(Get<std::string_view>(parent, key, where));
  }
  std::vector<std::pair<std::string, uint64_t>> Counts(const element& parent,
                                                       std::string_view key,
                                                       std::string_view where) {
    std::vector<std::pair<std::string, uint64_t>> counts;
    for (auto field : Get<object>(parent, key, where)) {
      uint64_t count = 0;
      if (field.value.get(count)) Fail(where, key);
      counts.emplace_back(std::string(field.key), count);
    }
    return counts;
  }
  [[noreturn]] void Fail(std::string_view where, std::string_view key) const {
    throw std::runtime_error(fmt::format("{}: not a needle run.json: no {}{}{}",
                                         path_, where, where.empty() ? "" : ".",
                                         key));
  }

 private:
  std::string path_;
};

void ReadCounts(const element& counts, Fields& f, RunSummary* run) {
  run->lines = f.Get<uint64_t>(counts, "lines", "counts");
  run->blank_lines = f.Get<uint64_t>(counts, "blank_lines", "counts");
  run->bytes = f.Get<uint64_t>(counts, "bytes", "counts");
  run->docs = f.Get<uint64_t>(counts, "docs", "counts");
  run->kept = f.Get<uint64_t>(counts, "kept", "counts");
  run->rejected = f.Get<uint64_t>(counts, "rejected", "counts");
  run->quarantined = f.Get<uint64_t>(counts, "quarantined", "counts");
  run->reasons = f.Counts(counts, "reasons", "counts");
  for (element stage : f.Get<array>(counts, "stages", "counts")) {
    RunSummary::Stage s;
    s.name = f.String(stage, "name", "counts.stages[]");
    s.docs_in = f.Get<uint64_t>(stage, "docs_in", "counts.stages[]");
    s.docs_out = f.Get<uint64_t>(stage, "docs_out", "counts.stages[]");
    s.rejects = f.Counts(stage, "rejects", "counts.stages[]");
    run->stages.push_back(std::move(s));
  }
  object languages;
  if (counts["languages"].get(languages)) return;  // before issue 3
  for (auto field : languages) {
    LanguageCounts& l = run->languages[std::string(field.key)];
    const element& v = field.value;
    l.docs = f.Get<uint64_t>(v, "docs", "counts.languages.*");
    l.bytes = f.Get<uint64_t>(v, "bytes", "counts.languages.*");
    l.tokens = f.Get<uint64_t>(v, "tokens", "counts.languages.*");
    l.kept_docs = f.Get<uint64_t>(v, "kept_docs", "counts.languages.*");
    l.kept_bytes = f.Get<uint64_t>(v, "kept_bytes", "counts.languages.*");
    l.kept_tokens = f.Get<uint64_t>(v, "kept_tokens", "counts.languages.*");
  }
}

}  // namespace

std::vector<TierCounts> ReadTiers(const element& root, const RunSummary& run) {
  std::vector<TierCounts> tiers;
  array measured;
  if (root["tiers"].get(measured) == simdjson::SUCCESS) {
    Fields f("run.json");
    for (element t : measured) {
      TierCounts tier;
      tier.from = fmt::format("tiers[{}]", tiers.size());
      tier.name = f.String(t, "name", "tiers[]");
      std::string_view definition;
      if (t["definition"].get(definition) == simdjson::SUCCESS) {
        tier.definition = definition;
      }
      tier.docs = f.Get<uint64_t>(t, "docs", "tiers[]");
      tier.bytes = f.Get<uint64_t>(t, "bytes", "tiers[]");
      tier.tokens = f.Get<uint64_t>(t, "tokens", "tiers[]");
      object languages;
      if (t["languages"].get(languages) == simdjson::SUCCESS) {
        for (auto field : languages) {
          TierCounts::Language& l = tier.languages[std::string(field.key)];
          l.docs = f.Get<uint64_t>(field.value, "docs", "tiers[].languages.*");
          l.bytes =
              f.Get<uint64_t>(field.value, "bytes", "tiers[].languages.*");
          l.tokens =
              f.Get<uint64_t>(field.value, "tokens", "tiers[].languages.*");
        }
      }
      tiers.push_back(std::move(tier));
    }
    return tiers;
  }
  TierCounts kept;
  kept.name = "kept";
  if (run.languages.empty()) {
    kept.docs = run.kept;
    kept.from = "counts.kept (no lang stage: no bytes or tokens by language)";
    tiers.push_back(std::move(kept));
    return tiers;
  }
  kept.from = "counts.languages.*.kept_docs, kept_bytes, kept_tokens";
  for (const auto& [language, l] : run.languages) {
    kept.docs += l.kept_docs;
    kept.bytes += l.kept_bytes;
    kept.tokens += l.kept_tokens;
    if (l.kept_docs > 0) {
      kept.languages[language] = {l.kept_docs, l.kept_bytes, l.kept_tokens};
    }
  }
  tiers.push_back(std::move(kept));
  return tiers;
}

RunSummary ReadRunSummary(const std::string& path) {
  simdjson::dom::parser parser;
  element root;
  if (const auto error = parser.load(path).get(root)) {
    throw std::runtime_error(fmt::format("{}: cannot read run.json: {}", path,
                                         simdjson::error_message(error)));
  }
  Fields f(path);
  RunSummary run;
  run.format = f.String(root, "format", "");
  if (run.format != "needle.run/1") {
    throw std::runtime_error(fmt::format(
        "{}: format \"{}\", expected \"needle.run/1\"", path, run.format));
  }
  run.version = f.String(root, "version", "");
  const element config = f.Get<element>(root, "config", "");
  run.config_path = f.String(config, "path", "config");
  run.config_hash = f.String(config, "hash", "config");
  run.config_resolved = f.String(config, "resolved", "config");
  for (element input : f.Get<array>(root, "inputs", "")) {
    RunSummary::Input in;
    in.name = f.String(input, "name", "inputs[]");
    in.path = f.String(input, "path", "inputs[]");
    in.xxh3 = f.String(input, "xxh3", "inputs[]");
    in.codec = f.String(input, "codec", "inputs[]");
    in.size_bytes = f.Get<uint64_t>(input, "size_bytes", "inputs[]");
    run.input_file_bytes += in.size_bytes;
    run.inputs.push_back(std::move(in));
  }
  ReadCounts(f.Get<element>(root, "counts", ""), f, &run);
  run.tiers = ReadTiers(root, run);
  return run;
}

}  // namespace needle
