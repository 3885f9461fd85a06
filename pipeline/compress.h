#pragma once
// Output compression, one independent frame per batch.
//
// Each batch is compressed on its own, in parallel, as a complete gzip member
// or zstd frame; the serial writer only appends the frames. A concatenation
// of members/frames is a valid .gz/.zst file for every standard decoder, and
// the bytes depend only on the batch contents, never on the thread count.

#include <string>
#include <string_view>

#include "pipeline/byte_source.h"

namespace needle {

// Appends `input` compressed with `codec` at `level` to `*out`. kPlain
// appends the input unchanged. Level follows the codec's own scale (zstd
// 1..19, gzip 1..9); it is validated by config, not here.
void AppendCompressedFrame(Codec codec, int level, std::string_view input,
                           std::string* out);

// A complete stream with no content: "" for kPlain, else one empty frame.
// For output files that no document went into, which must still decode
// (zstd(1) and gzip(1) reject a 0-byte file).
std::string EmptyStream(Codec codec, int level);

// The file-name extension for a codec: "", ".gz", ".zst".
const char* CodecExtension(Codec codec);

}  // namespace needle
