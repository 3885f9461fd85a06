#pragma once
// Turns each raw line of a batch into a document, or a quarantine reason.
//
// Order of checks, each with its own reason: valid UTF-8 (bad_utf8), valid
// JSON object (bad_json), a text field (missing_text) holding a string
// (text_not_string) that is not empty (empty_text). Text and id are copied
// unescaped into the batch's arena. The whole line is validated (simdjson's
// DOM parser, not On Demand), so a fault after the text field is not missed.

#include <simdjson.h>

#include <string_view>

#include "pipeline/batch.h"
#include "pipeline/options.h"

namespace needle {

// The key under which Needle adds its annotations to each document.
inline constexpr std::string_view kNeedleField = "needle";

// Parses every document of `batch` whose reason is still kOk. `parser` is
// the calling thread's own; it keeps its buffers between batches.
void ParseBatch(const InputOptions& options, std::string_view shard_name,
                simdjson::dom::parser& parser, Batch* batch);

}  // namespace needle
