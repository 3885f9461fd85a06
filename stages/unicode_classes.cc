#include "stages/unicode_classes.h"

#include <iterator>
#include <map>
#include <string>

namespace needle {
namespace {

// Runs of one class, (first code point << 3) | CharClass, sorted; a run
// lasts until the next one starts.
constexpr uint32_t kClassRuns[] = {
#include "stages/unicode_class_runs.inc"
};

}  // namespace

const CharClasses& CharClasses::Get() {
  static const CharClasses classes;
  return classes;
}

CharClasses::CharClasses() {
  constexpr char32_t kCodePoints = 0x110000;
  // Expand the runs into one class per code point, then store each distinct
  // block once: most of Unicode is long runs of one class.
  std::string all(kCodePoints, '\0');
  for (size_t i = 0; i < std::size(kClassRuns); ++i) {
    const uint32_t run = kClassRuns[i];
    const char32_t end =
        i + 1 < std::size(kClassRuns) ? kClassRuns[i + 1] >> 3 : kCodePoints;
    for (char32_t cp = run >> 3; cp < end; ++cp) {
      all[cp] = static_cast<char>(run & 7);
    }
  }
  std::map<std::string, uint16_t> seen;
  block_of_.resize(kCodePoints >> kBlockBits);
  for (size_t block = 0; block < block_of_.size(); ++block) {
    std::string classes = all.substr(block << kBlockBits, kBlockSize);
    const auto [it, added] =
        seen.emplace(std::move(classes), static_cast<uint16_t>(seen.size()));
    if (added)
      blocks_.insert(blocks_.end(), it->first.begin(), it->first.end());
    block_of_[block] = it->second;
  }
}

}  // namespace needle
