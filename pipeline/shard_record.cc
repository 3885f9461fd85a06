#include "pipeline/shard_record.h"

#include <fmt/format.h>
#include <simdjson.h>

#include "pipeline/json_text.h"

namespace needle {
namespace {

void AppendReasonCounts(const ReasonCounts& counts, std::string* out) {
  out->push_back('{');
  bool first = true;
  for (int i = 0; i < kReasonCount; ++i) {
    if (counts[i] == 0) continue;
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(ReasonName(static_cast<Reason>(i)), out);
    fmt::format_to(std::back_inserter(*out), ":{}", counts[i]);
  }
  out->push_back('}');
}

bool ReadReasonCounts(simdjson::dom::object object, ReasonCounts* counts) {
  for (auto field : object) {
    const std::optional<Reason> reason = ReasonFromName(field.key);
    uint64_t count = 0;
    if (!reason || field.value.get_uint64().get(count)) return false;
    (*counts)[static_cast<int>(*reason)] = count;
  }
  return true;
}

bool ReadLanguageCounts(
    simdjson::dom::object object,
    std::map<std::string, LanguageCounts, std::less<>>* languages) {
  for (auto field : object) {
    LanguageCounts& l = (*languages)[std::string(field.key)];
    if (field.value["docs"].get(l.docs) || field.value["bytes"].get(l.bytes) ||
        field.value["tokens"].get(l.tokens) ||
        field.value["kept_docs"].get(l.kept_docs) ||
        field.value["kept_bytes"].get(l.kept_bytes) ||
        field.value["kept_tokens"].get(l.kept_tokens)) {
      return false;
    }
  }
  return true;
}

}  // namespace

void AppendCountersJson(const ShardCounters& c, std::string* out) {
  fmt::format_to(std::back_inserter(*out),
                 "{{\"lines\":{},\"blank_lines\":{},\"bytes\":{},\"docs\":{},"
                 "\"kept\":{},\"rejected\":{},\"quarantined\":{},\"reasons\":",
                 c.lines, c.blank_lines, c.bytes, c.docs, c.kept, c.rejected,
                 c.quarantined);
  AppendReasonCounts(c.reasons, out);
  out->append(",\"stages\":[");
  for (size_t i = 0; i < c.stages.size(); ++i) {
    const StageCounters& s = c.stages[i];
    if (i > 0) out->push_back(',');
    out->append("{\"name\":");
    AppendJsonString(s.name, out);
    fmt::format_to(std::back_inserter(*out),
                   ",\"docs_in\":{},\"docs_out\":{},\"rejects\":", s.docs_in,
                   s.docs_out);
    AppendReasonCounts(s.rejects, out);
    fmt::format_to(std::back_inserter(*out), ",\"cpu_seconds\":{:.3f}}}",
                   s.cpu_seconds);
  }
  out->append("],\"languages\":{");
  bool first = true;
  for (const auto& [language, l] : c.languages) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(language, out);
    fmt::format_to(std::back_inserter(*out),
                   ":{{\"docs\":{},\"bytes\":{},\"tokens\":{},"
                   "\"kept_docs\":{},\"kept_bytes\":{},\"kept_tokens\":{}}}",
                   l.docs, l.bytes, l.tokens, l.kept_docs, l.kept_bytes,
                   l.kept_tokens);
  }
  out->append("}}");
}

std::string ShardRecordJson(const ShardRecord& r) {
  std::string out = "{\"format\":\"needle.shard/1\",\"name\":";
  AppendJsonString(r.name, &out);
  out += ",\"path\":";
  AppendJsonString(r.path, &out);
  fmt::format_to(std::back_inserter(out),
                 ",\"size_bytes\":{},\"mtime_ns\":{},\"xxh3\":\"{}\","
                 "\"codec\":\"{}\",\"config_hash\":\"{}\",\"counts\":",
                 r.size_bytes, r.mtime_ns, r.xxh3, r.codec, r.config_hash);
  AppendCountersJson(r.counters, &out);
  out += "}\n";
  return out;
}

std::optional<ShardRecord> ReadShardRecord(const std::string& path) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.load(path).get(root)) return std::nullopt;
  ShardRecord r;
  std::string_view format, name, file, xxh3, codec, hash;
  simdjson::dom::object counts;
  if (root["format"].get(format) || format != "needle.shard/1" ||
      root["name"].get(name) || root["path"].get(file) ||
      root["size_bytes"].get(r.size_bytes) ||
      root["mtime_ns"].get(r.mtime_ns) || root["xxh3"].get(xxh3) ||
      root["codec"].get(codec) || root["config_hash"].get(hash) ||
      root["counts"].get(counts)) {
    return std::nullopt;
  }
  r.name = name;
  r.path = file;
  r.xxh3 = xxh3;
  r.codec = codec;
  r.config_hash = hash;
  ShardCounters& c = r.counters;
  simdjson::dom::object reasons;
  simdjson::dom::array stages;
  if (counts["lines"].get(c.lines) ||
      counts["blank_lines"].get(c.blank_lines) ||
      counts["bytes"].get(c.bytes) || counts["docs"].get(c.docs) ||
      counts["kept"].get(c.kept) || counts["rejected"].get(c.rejected) ||
      counts["quarantined"].get(c.quarantined) ||
      counts["reasons"].get(reasons) || counts["stages"].get(stages) ||
      !ReadReasonCounts(reasons, &c.reasons)) {
    return std::nullopt;
  }
  for (simdjson::dom::element element : stages) {
    StageCounters s;
    std::string_view stage_name;
    simdjson::dom::object rejects;
    if (element["name"].get(stage_name) || element["docs_in"].get(s.docs_in) ||
        element["docs_out"].get(s.docs_out) ||
        element["rejects"].get(rejects) ||
        element["cpu_seconds"].get(s.cpu_seconds) ||
        !ReadReasonCounts(rejects, &s.rejects)) {
      return std::nullopt;
    }
    s.name = stage_name;
    c.stages.push_back(std::move(s));
  }
  // Absent from records written before per-language counts existed.
  simdjson::dom::object languages;
  if (!counts["languages"].get(languages) &&
      !ReadLanguageCounts(languages, &c.languages)) {
    return std::nullopt;
  }
  return r;
}

}  // namespace needle
