#pragma once
// Why a line or document left the main flow. One value per cause, one
// snake_case spelling shared by counters, quarantine files and reports.
//
// Input faults (the line never became a usable document) are quarantined;
// stage rejects are counted and optionally written to rejected/.

#include <cstdint>
#include <optional>
#include <string_view>

namespace needle {

enum class Reason : uint8_t {
  kOk,  // still in the flow
  // Input faults, written to quarantine/.
  kBadJson,          // not a JSON object, or malformed JSON
  kBadUtf8,          // the line's bytes are not valid UTF-8
  kMissingText,      // no field named [input].text_field
  kTextNotString,    // the text field holds a number, object, null...
  kEmptyText,        // the text field is ""
  kLineTooLong,      // longer than [input].max_line_bytes; raw cut to 4 KiB
  kTruncatedStream,  // gzip/zstd stream ended early; raw is the cut line
  kCorruptStream,    // gzip/zstd stream failed to decode; raw is the cut line
  kUnreadableFile,   // the shard could not be opened or read at all
  kStageError,       // a stage threw on this document
  // Stage rejects.
  kTooShort,        // doc_length: fewer than min_chars characters
  kTooLong,         // doc_length: more than max_chars characters
  kLangNotAllowed,  // lang: top language not in [lang].languages
  kLangLowScore,    // lang: top language's probability below its min_score
  kExactDuplicate,  // dedup: same normalized text as the kept document
  kNearDuplicate,   // dedup: shares a MinHash band bucket with its cluster
  kCount,           // not a reason: the number of reasons
};
inline constexpr int kReasonCount = static_cast<int>(Reason::kCount);

std::string_view ReasonName(Reason reason);
std::optional<Reason> ReasonFromName(std::string_view name);
// True for the input faults above, which go to quarantine/.
bool IsQuarantineReason(Reason reason);

}  // namespace needle
