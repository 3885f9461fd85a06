#pragma once
// The progress line on stderr: percent of input bytes, docs/s, MB/s, ETA.
// Drawn only when stderr is a terminal and the run is not --quiet; updated
// from the serial writer, at most five times a second.

#include <chrono>
#include <cstdint>

namespace needle {

class Progress {
 public:
  Progress(uint64_t total_input_bytes, bool enabled);
  // `input_bytes_done`: raw file bytes behind everything written so far.
  void Update(uint64_t input_bytes_done, uint64_t docs_done);
  void Finish();  // ends the line

 private:
  void Draw(uint64_t input_bytes_done, uint64_t docs_done);

  uint64_t total_;
  bool enabled_;
  bool drawn_ = false;
  uint64_t last_bytes_ = 0;
  uint64_t last_docs_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace needle
