#include "pipeline/reason.h"

#include <array>

namespace needle {
namespace {

constexpr std::array<std::string_view, kReasonCount> kReasonNames = {
    "ok",
    "bad_json",
    "bad_utf8",
    "missing_text",
    "text_not_string",
    "empty_text",
    "line_too_long",
    "truncated_stream",
    "corrupt_stream",
    "unreadable_file",
    "stage_error",
    "too_short",
    "too_long",
    "lang_not_allowed",
    "lang_low_score",
    "exact_duplicate",
    "near_duplicate",
};
static_assert(!kReasonNames.back().empty(), "every Reason needs a name");

}  // namespace

std::string_view ReasonName(Reason reason) {
  return kReasonNames[static_cast<size_t>(reason)];
}

std::optional<Reason> ReasonFromName(std::string_view name) {
  for (size_t i = 0; i < kReasonNames.size(); ++i) {
    if (kReasonNames[i] == name) return static_cast<Reason>(i);
  }
  return std::nullopt;
}

bool IsQuarantineReason(Reason reason) {
  return reason != Reason::kOk && reason <= Reason::kStageError;
}

}  // namespace needle
