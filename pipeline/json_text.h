#pragma once
// Small helpers for writing JSON text by hand, where building a DOM would
// cost more than the bytes themselves (the writer's hot path).

#include <cstddef>
#include <string>
#include <string_view>

namespace needle {

// Appends `text` as a quoted JSON string. `text` must be valid UTF-8; quotes,
// backslashes and control characters are escaped, everything else is copied.
void AppendJsonString(std::string_view text, std::string* out);

// Appends the standard base64 encoding (RFC 4648, padded) of `bytes`.
void AppendBase64(std::string_view bytes, std::string* out);

// The longest prefix of `text` of at most `max_bytes` bytes that does not
// end inside a UTF-8 sequence (assuming `text` is valid UTF-8).
std::string_view Utf8Prefix(std::string_view text, size_t max_bytes);

// Appends a double as the shortest text that reads back to the same value
// after rounding to 6 decimal places; non-finite values become null.
void AppendJsonNumber(double value, std::string* out);

}  // namespace needle
