#include "pipeline/encoder.h"

#include <fmt/format.h>
#include <simdjson.h>

#include "pipeline/compress.h"
#include "pipeline/json_text.h"
#include "pipeline/parser.h"
#include "pipeline/shard_reader.h"
#include "pipeline/signal_store.h"

namespace needle {
namespace {

void AppendSignals(const Document& doc, std::string* out) {
  out->append("\"signals\":{");
  for (size_t i = 0; i < doc.signals.size(); ++i) {
    const Signal& signal = doc.signals[i];
    if (i > 0) out->push_back(',');
    AppendJsonString(signal.key, out);
    out->push_back(':');
    if (const auto* integer = std::get_if<int64_t>(&signal.value)) {
      fmt::format_to(std::back_inserter(*out), "{}", *integer);
    } else if (const auto* number = std::get_if<double>(&signal.value)) {
      AppendJsonNumber(*number, out);
    } else {
      AppendJsonString(std::get<std::string>(signal.value), out);
    }
  }
  out->push_back('}');
}

// The input object with its text field's value replaced by `text`, every
// other field as it was.
std::string WithText(std::string_view raw, std::string_view text_field,
                     std::string_view text) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object object;
  // The parser accepted this line already; it can only fail on memory.
  if (auto error = parser.parse(raw.data(), raw.size()).get(object)) {
    throw std::runtime_error(simdjson::error_message(error));
  }
  std::string out = "{";
  for (auto field : object) {
    if (out.size() > 1) out += ',';
    AppendJsonString(field.key, &out);
    out += ':';
    if (field.key == text_field) {
      AppendJsonString(text, &out);
    } else {
      out += simdjson::minify(field.value);
    }
  }
  out += '}';
  return out;
}

// The input line with the id (if generated) and the needle object added
// before its closing brace; with the stages' text when one rewrote it.
void AppendAnnotated(const EncodeOptions& options, const Document& doc,
                     std::string* out) {
  thread_local std::string rewritten;
  std::string_view raw = doc.raw;
  if (doc.text_rewritten()) {
    rewritten = WithText(doc.raw, options.text_field, doc.text);
    raw = rewritten;
  }
  while (!raw.empty() && raw.back() != '}') raw.remove_suffix(1);
  raw.remove_suffix(1);  // the parser checked it is an object with a field
  out->append(raw);
  out->push_back(',');
  if (doc.id_generated) {
    AppendJsonString(options.id_field, out);
    out->push_back(':');
    AppendJsonString(doc.id, out);
    out->push_back(',');
  }
  out->append("\"needle\":{");
  if (!doc.ok()) {
    out->append("\"reason\":");
    AppendJsonString(ReasonName(doc.reason), out);
    out->append(",\"stage\":");
    AppendJsonString(doc.reject_stage, out);
    out->push_back(',');
  }
  AppendSignals(doc, out);
  out->append("}}\n");
}

void AppendQuarantineEntry(std::string_view shard_name, const Document& doc,
                           std::string* out) {
  out->append("{\"shard\":");
  AppendJsonString(shard_name, out);
  fmt::format_to(std::back_inserter(*out), ",\"line\":{},\"offset\":{}",
                 doc.line, doc.offset);
  out->append(",\"reason\":");
  AppendJsonString(ReasonName(doc.reason), out);
  if (!doc.detail.empty()) {
    out->append(",\"detail\":");
    AppendJsonString(doc.detail, out);
  }
  const std::string_view raw =
      doc.raw.substr(0, std::min(doc.raw.size(), kQuarantineRawBytes));
  if (simdjson::validate_utf8(raw.data(), raw.size())) {
    out->append(",\"raw\":");
    AppendJsonString(raw, out);
  } else {
    // The cut may have split a character: try the prefix that ends on a
    // character boundary before giving up on text.
    const std::string_view prefix = Utf8Prefix(doc.raw, kQuarantineRawBytes);
    if (raw.size() == kQuarantineRawBytes &&
        simdjson::validate_utf8(prefix.data(), prefix.size())) {
      out->append(",\"raw\":");
      AppendJsonString(prefix, out);
    } else {
      out->append(",\"raw_base64\":\"");
      AppendBase64(raw, out);
      out->push_back('"');
    }
  }
  out->append("}\n");
}

// Adds a kept or rejected document to its language's counts, when a stage
// recorded "lang" on it.
void CountLanguage(const Document& doc, ShardCounters* counters) {
  const auto* language = doc.FindSignal<std::string>("lang");
  if (language == nullptr) return;
  const auto* count = doc.FindSignal<int64_t>("tokens");
  const uint64_t tokens = count ? static_cast<uint64_t>(*count) : 0;
  auto it = counters->languages.find(*language);
  if (it == counters->languages.end()) {
    it = counters->languages.emplace(*language, LanguageCounts()).first;
  }
  LanguageCounts& counts = it->second;
  ++counts.docs;
  counts.bytes += doc.text.size();
  counts.tokens += tokens;
  if (doc.ok()) {
    ++counts.kept_docs;
    counts.kept_bytes += doc.text.size();
    counts.kept_tokens += tokens;
  }
}

}  // namespace

EncodeOptions MakeEncodeOptions(const RunConfig& config) {
  EncodeOptions options;
  options.id_field = config.input.id_field;
  options.text_field = config.input.text_field;
  options.codec = config.output.codec == "zstd"   ? Codec::kZstd
                  : config.output.codec == "gzip" ? Codec::kGzip
                                                  : Codec::kPlain;
  options.level = config.output.level;
  options.write_rejected = config.output.write_rejected;
  if (config.tiers.enabled) {
    // Every parsed document is in some tier or below them all: the tier
    // step needs the stages' rejects staged too, and every signal stored.
    options.write_rejected = true;
    options.store_signals = true;
  }
  return options;
}

void EncodeBatch(const EncodeOptions& options, std::string_view shard_name,
                 Batch* batch) {
  thread_local std::string kept;
  thread_local std::string rejected;
  kept.clear();
  rejected.clear();
  batch->quarantine_bytes.clear();
  ShardCounters& counters = batch->counters;
  for (const Document& doc : batch->docs) {
    if (!IsQuarantineReason(doc.reason)) CountLanguage(doc, &counters);
    if (doc.ok()) {
      ++counters.kept;
      AppendAnnotated(options, doc, &kept);
      continue;
    }
    ++counters.reasons[static_cast<int>(doc.reason)];
    if (IsQuarantineReason(doc.reason)) {
      ++counters.quarantined;
      AppendQuarantineEntry(shard_name, doc, &batch->quarantine_bytes);
    } else {
      ++counters.rejected;
      if (options.write_rejected) AppendAnnotated(options, doc, &rejected);
    }
  }
  batch->kept_bytes.clear();
  batch->rejected_bytes.clear();
  if (!kept.empty()) {
    AppendCompressedFrame(options.codec, options.level, kept,
                          &batch->kept_bytes);
  }
  if (!rejected.empty()) {
    AppendCompressedFrame(options.codec, options.level, rejected,
                          &batch->rejected_bytes);
  }
  batch->signal_records.clear();
  if (options.store_signals) {
    thread_local std::string records;
    records.clear();
    AppendSignalRecords(*batch, &records);
    if (!records.empty()) {
      AppendCompressedFrame(Codec::kZstd, 1, records, &batch->signal_records);
    }
  }
}

}  // namespace needle
