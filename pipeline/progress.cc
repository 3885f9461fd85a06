#include "pipeline/progress.h"

#include <fmt/format.h>

#include <cstdio>

namespace needle {

Progress::Progress(uint64_t total_input_bytes, bool enabled)
    : total_(total_input_bytes),
      enabled_(enabled),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

void Progress::Update(uint64_t input_bytes_done, uint64_t docs_done) {
  if (!enabled_) return;
  last_bytes_ = input_bytes_done;
  last_docs_ = docs_done;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(200)) return;
  last_draw_ = now;
  Draw(input_bytes_done, docs_done);
}

void Progress::Draw(uint64_t input_bytes_done, uint64_t docs_done) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_)
          .count();
  const auto done = static_cast<double>(input_bytes_done);
  const auto total = static_cast<double>(total_);
  const auto docs = static_cast<double>(docs_done);
  const double bytes_per_second = seconds > 0 ? done / seconds : 0;
  const double percent = total_ > 0 ? 100.0 * done / total : 100;
  std::string eta = "--:--";
  if (bytes_per_second > 0 && input_bytes_done <= total_) {
    const auto left = static_cast<uint64_t>((total - done) / bytes_per_second);
    eta = fmt::format("{}:{:02}", left / 60, left % 60);
  }
  fmt::print(stderr,
             "\r{:5.1f}%  {} docs  {:.1f} docs/s  {:.1f} MB/s  ETA {}  ",
             percent, docs_done, seconds > 0 ? docs / seconds : 0.0,
             bytes_per_second / 1e6, eta);
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::Finish() {
  if (!drawn_) return;
  Draw(last_bytes_,
       last_docs_);  // the final figures, not the last throttled ones
  fmt::print(stderr, "\n");
  drawn_ = false;
}

}  // namespace needle
