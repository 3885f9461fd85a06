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
  kTooShort,             // doc_length: fewer than min_chars characters
  kTooLong,              // doc_length: more than max_chars characters
  kLangNotAllowed,       // lang: top language not in [lang].languages
  kLangLowScore,         // lang: top language's probability below its min_score
  kExactDuplicate,       // dedup: same normalized text as the kept document
  kNearDuplicate,        // dedup: shares a MinHash band bucket with its cluster
  kGopherTooFewWords,    // gopher: fewer than min_doc_words non-symbol words
  kGopherTooManyWords,   // gopher: more than max_doc_words non-symbol words
  kGopherShortWords,     // gopher: mean word length below min_avg_word_length
  kGopherLongWords,      // gopher: mean word length above max_avg_word_length
  kGopherHashRatio,      // gopher: too many '#' per word
  kGopherEllipsisRatio,  // gopher: too many ellipses per word
  kGopherBulletLines,    // gopher: too many lines start with a bullet
  kGopherEllipsisLines,  // gopher: too many lines end with an ellipsis
  kGopherFewAlphaWords,  // gopher: too few words contain a letter
  kGopherFewStopWords,   // gopher: fewer than min_stop_words stop words
  kGopherDupParaFrac,    // gopher_repetition: duplicate paragraphs, by count
  kGopherDupParaCharFrac,  // gopher_repetition: duplicate paragraphs, by chars
  kGopherDupLineFrac,      // gopher_repetition: duplicate lines, by count
  kGopherDupLineCharFrac,  // gopher_repetition: duplicate lines, by characters
  kGopherTop2gram,  // gopher_repetition: most frequent 2-gram's character share
  kGopherTop3gram,  // gopher_repetition: most frequent 3-gram's character share
  kGopherTop4gram,  // gopher_repetition: most frequent 4-gram's character share
  kGopherDup5gram,  // gopher_repetition: duplicated 5-grams' character share
  kGopherDup6gram,  // gopher_repetition: duplicated 6-grams' character share
  kGopherDup7gram,  // gopher_repetition: duplicated 7-grams' character share
  kGopherDup8gram,  // gopher_repetition: duplicated 8-grams' character share
  kGopherDup9gram,  // gopher_repetition: duplicated 9-grams' character share
  kGopherDup10gram,  // gopher_repetition: duplicated 10-grams' character share
  kC4LoremIpsum,     // c4: contains "lorem ipsum"
  kC4CurlyBracket,   // c4: contains a curly bracket
  kC4TooFewSentences,      // c4: fewer than min_num_sentences sentences
  kC4BadWords,             // c4: contains a word from the bad-words list
  kC4NoLinesLeft,          // c4: line removal left no text
  kFinewebLinePunctRatio,  // fineweb: too few lines end in terminal punctuation
  kFinewebShortLineRatio,  // fineweb: too many short lines
  kFinewebCharDupRatio,    // fineweb: too many characters in duplicated lines
  kFinewebListRatio,       // fineweb: too many newlines per word
  kUrlBlockedDomain,       // url_filter: the url's domain is on the blocklist
  kUrlBlockedPattern,      // url_filter: the url matches a blocked pattern
  kQualityLowScore,        // quality: quality_score below min_score
  kBelowFirstTier,         // tiers: kept by every stage, but in no tier
  kCount,                  // not a reason: the number of reasons
};
inline constexpr int kReasonCount = static_cast<int>(Reason::kCount);

std::string_view ReasonName(Reason reason);
std::optional<Reason> ReasonFromName(std::string_view name);
// True for the input faults above, which go to quarantine/.
bool IsQuarantineReason(Reason reason);

}  // namespace needle
