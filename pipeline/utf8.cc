#include "pipeline/utf8.h"

#include <cstring>

namespace needle {

int64_t CountCodePoints(std::string_view text) {
  // Every byte but a continuation byte (10xxxxxx) starts a code point.
  // Eight bytes at a time: bit 7 of each byte of `continuation` is set where
  // that byte's bits 7 and 6 are 1 and 0, and the multiply adds those bits
  // up in the top byte.
  constexpr uint64_t kHighBits = 0x8080808080808080u;
  constexpr uint64_t kOnes = 0x0101010101010101u;
  const char* p = text.data();
  const size_t words = text.size() / 8;
  int64_t continuations = 0;
  for (size_t w = 0; w < words; ++w) {
    uint64_t x = 0;
    std::memcpy(&x, p + 8 * w, 8);
    const uint64_t continuation = x & ~(x << 1) & kHighBits;
    continuations += static_cast<int64_t>(((continuation >> 7) * kOnes) >> 56);
  }
  for (size_t i = 8 * words; i < text.size(); ++i) {
    continuations += (static_cast<unsigned char>(p[i]) & 0xC0) == 0x80;
  }
  return static_cast<int64_t>(text.size()) - continuations;
}

}  // namespace needle
