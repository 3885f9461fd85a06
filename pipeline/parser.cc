#include "pipeline/parser.h"

#include <fmt/format.h>

#include "pipeline/json_text.h"

namespace needle {
namespace {

std::string_view TypeName(simdjson::dom::element_type type) {
  using simdjson::dom::element_type;
  switch (type) {
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      return "a number";
    case element_type::STRING:
      return "a string";
    case element_type::BOOL:
      return "a boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "unknown";
}

// Appends `text` to the arena, which was reserved so it never reallocates.
std::string_view Store(std::string_view text, std::string* arena) {
  const size_t begin = arena->size();
  arena->append(text);
  return std::string_view(*arena).substr(begin, text.size());
}

// The object without a "needle" field, re-serialized. Rare: only inputs
// that were already annotated (by Needle or anyone else) take this path,
// so that outputs never carry the key twice.
std::string WithoutNeedleField(simdjson::dom::object object) {
  std::string out = "{";
  for (auto field : object) {
    if (field.key == kNeedleField) continue;
    if (out.size() > 1) out += ',';
    AppendJsonString(field.key, &out);
    out += ':';
    out += simdjson::minify(field.value);
  }
  out += '}';
  return out;
}

void ParseDocument(const InputOptions& options, std::string_view shard_name,
                   simdjson::dom::parser& parser, Batch* batch, Document* doc) {
  if (!simdjson::validate_utf8(doc->raw.data(), doc->raw.size())) {
    doc->reason = Reason::kBadUtf8;
    doc->detail = "the line is not valid UTF-8";
    return;
  }
  simdjson::dom::element root;
  if (auto error =
          parser.parse(doc->raw.data(), doc->raw.size(), false).get(root)) {
    doc->reason = Reason::kBadJson;
    doc->detail = simdjson::error_message(error);
    return;
  }
  simdjson::dom::object object;
  if (root.get_object().get(object)) {
    doc->reason = Reason::kBadJson;
    doc->detail = Own(batch, fmt::format("the line is {}, not a JSON object",
                                         TypeName(root.type())));
    return;
  }
  simdjson::dom::element text_value;
  simdjson::dom::element id_value;
  bool has_text = false;
  bool has_id = false;
  bool has_needle = false;
  for (auto field : object) {
    if (field.key == options.text_field) {
      text_value = field.value;
      has_text = true;
    } else if (field.key == options.id_field) {
      id_value = field.value;
      has_id = true;
    } else if (field.key == kNeedleField) {
      has_needle = true;
    }
  }
  if (!has_text) {
    std::string present;
    size_t listed = 0;
    for (auto field : object) {
      if (listed++ == 8) {
        present += ", ...";
        break;
      }
      present += (present.empty() ? "" : ", ") + std::string(field.key);
    }
    doc->reason = Reason::kMissingText;
    doc->detail =
        Own(batch, fmt::format("no field '{}'; fields present: {}; is "
                               "[input].text_field right?",
                               options.text_field,
                               present.empty() ? "none" : present));
    return;
  }
  std::string_view text;
  if (text_value.get_string().get(text)) {
    doc->reason = Reason::kTextNotString;
    doc->detail = Own(
        batch, fmt::format("field '{}' is {}, not a string", options.text_field,
                           TypeName(text_value.type())));
    return;
  }
  if (text.empty()) {
    doc->reason = Reason::kEmptyText;
    doc->detail = "the text is empty";
    return;
  }
  doc->text = Store(text, &batch->text_arena);
  if (!has_id) {
    doc->id =
        Store(fmt::format("{}:{}", shard_name, doc->line), &batch->text_arena);
    doc->id_generated = true;
  } else if (std::string_view id; !id_value.get_string().get(id)) {
    doc->id = Store(id, &batch->text_arena);
  } else {
    doc->id = Own(batch, simdjson::minify(id_value));
  }
  if (has_needle) doc->raw = Own(batch, WithoutNeedleField(object));
}

}  // namespace

void ParseBatch(const InputOptions& options, std::string_view shard_name,
                simdjson::dom::parser& parser, Batch* batch) {
  // Unescaped text and id never exceed their line; generated ids are short.
  batch->text_arena.clear();
  batch->text_arena.reserve(batch->raw.size() +
                            batch->docs.size() * (shard_name.size() + 24));
  for (Document& doc : batch->docs) {
    if (doc.reason != Reason::kOk) continue;
    ParseDocument(options, shard_name, parser, batch, &doc);
    batch->counters.docs += doc.ok();
  }
}

}  // namespace needle
