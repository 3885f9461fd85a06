#pragma once
// What every benchmark main shares: timing the fastest of N runs, and
// turning an exception into a message and exit status 1.
//
// The fastest run is shown because other work on a shared machine only
// ever slows a run down; CPU time is shown beside wall time because it is
// much less disturbed by that other work.

#include <fmt/format.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <exception>

namespace needle::bench {

// Whose CPU time a benchmark counts.
enum class CpuOf {
  kThisThread,  // a single-threaded measurement loop
  kProcess,     // all threads of this process (user + system)
  kChildren,    // finished child processes (user + system): CLI baselines
};

inline double CpuSeconds(CpuOf whose) {
  if (whose == CpuOf::kThisThread) {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) +
           static_cast<double>(ts.tv_nsec) * 1e-9;
  }
  rusage usage{};
  getrusage(whose == CpuOf::kProcess ? RUSAGE_SELF : RUSAGE_CHILDREN, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) +
           static_cast<double>(t.tv_usec) * 1e-6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

struct Timing {
  double wall_seconds = 1e300;
  double cpu_seconds = 1e300;
};

// The fastest of `repeat` runs of `work`, by wall and by CPU time each;
// `setup` runs untimed before each (e.g. to reset the documents).
template <class Setup, class Work>
Timing Fastest(int repeat, CpuOf whose, Setup setup, Work work) {
  using Clock = std::chrono::steady_clock;
  Timing best;
  for (int i = 0; i < repeat; ++i) {
    setup();
    const double cpu_start = CpuSeconds(whose);
    const auto wall_start = Clock::now();
    work();
    const std::chrono::duration<double> wall = Clock::now() - wall_start;
    best.wall_seconds = std::min(best.wall_seconds, wall.count());
    best.cpu_seconds =
        std::min(best.cpu_seconds, CpuSeconds(whose) - cpu_start);
  }
  return best;
}

template <class Work>
Timing Fastest(int repeat, CpuOf whose, Work work) {
  return Fastest(
      repeat, whose, [] {}, work);
}

// A benchmark's main(): runs `body`; an exception becomes "<name>: <what>"
// on stderr and exit status 1.
inline int RunMain(const char* name, int (*body)(int, char**), int argc,
                   char** argv) {
  try {
    return body(argc, argv);
  } catch (const std::exception& error) {
    fmt::print(stderr, "{}: {}\n", name, error.what());
    return 1;
  }
}

}  // namespace needle::bench
