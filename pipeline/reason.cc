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
    "gopher_too_few_words",
    "gopher_too_many_words",
    "gopher_short_words",
    "gopher_long_words",
    "gopher_hash_ratio",
    "gopher_ellipsis_ratio",
    "gopher_bullet_lines",
    "gopher_ellipsis_lines",
    "gopher_few_alpha_words",
    "gopher_few_stop_words",
    "gopher_dup_para_frac",
    "gopher_dup_para_char_frac",
    "gopher_dup_line_frac",
    "gopher_dup_line_char_frac",
    "gopher_top_2gram",
    "gopher_top_3gram",
    "gopher_top_4gram",
    "gopher_dup_5gram",
    "gopher_dup_6gram",
    "gopher_dup_7gram",
    "gopher_dup_8gram",
    "gopher_dup_9gram",
    "gopher_dup_10gram",
    "c4_lorem_ipsum",
    "c4_curly_bracket",
    "c4_too_few_sentences",
    "c4_bad_words",
    "c4_no_lines_left",
    "fineweb_line_punct_ratio",
    "fineweb_short_line_ratio",
    "fineweb_char_dup_ratio",
    "fineweb_list_ratio",
    "url_blocked_domain",
    "url_blocked_pattern",
    "quality_low_score",
    "below_first_tier",
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
