#pragma once
// Counting in valid UTF-8 (the parser has checked every document's text).

#include <cstdint>
#include <string_view>

namespace needle {

// The number of code points in `text`: Python's len() of the decoded string.
int64_t CountCodePoints(std::string_view text);

}  // namespace needle
