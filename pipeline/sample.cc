#include "pipeline/sample.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <stdexcept>

#include "pipeline/byte_source.h"
#include "pipeline/config.h"
#include "pipeline/reason.h"
#include "pipeline/run_summary.h"

namespace needle {
namespace {

namespace fs = std::filesystem;

Reason ParseReason(const std::string& name) {
  if (const std::optional<Reason> reason = ReasonFromName(name)) {
    if (*reason != Reason::kOk) return *reason;
  }
  std::vector<std::string> names;
  for (int i = 1; i < kReasonCount; ++i) {
    names.emplace_back(ReasonName(static_cast<Reason>(i)));
  }
  std::string message = fmt::format("unknown reason '{}'", name);
  const std::string suggestion = ClosestName(name, names);
  if (!suggestion.empty()) {
    message += fmt::format("; did you mean '{}'?", suggestion);
  }
  throw std::runtime_error(message);
}

// Output files under `folder`, in name order; none when it does not exist.
std::vector<std::string> FilesUnder(const std::string& folder) {
  std::vector<std::string> files;
  if (!fs::is_directory(folder)) return files;
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    const std::string path = entry.path().string();
    if (entry.is_regular_file() && !path.ends_with(".tmp")) {
      files.push_back(path);
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool WroteRejected(const RunSummary& run) {
  try {
    const toml::table config = toml::parse(run.config_resolved);
    return config["output"]["write_rejected"].value_or(false);
  } catch (const toml::parse_error&) {
    return false;
  }
}

}  // namespace

SampleResult SampleDocuments(const SampleRequest& request) {
  const Reason reason = ParseReason(request.reason);
  const RunSummary run = ReadRunSummary(request.out_dir + "/run.json");
  SampleResult result;
  for (const auto& [name, count] : run.reasons) {
    if (name == request.reason) result.counted = count;
  }
  if (result.counted == 0) {
    throw std::runtime_error(
        fmt::format("{}/run.json counts no {} documents (counts.reasons)",
                    request.out_dir, request.reason));
  }
  const bool quarantined = IsQuarantineReason(reason);
  result.folder = quarantined ? "quarantine" : "rejected";
  std::vector<std::string> files =
      FilesUnder(request.out_dir + "/" + result.folder);
  if (!quarantined) {
    // With tiers, documents a stage rejected are members of the loosest
    // tier(s): they live under tiers/<tier>/, with their reason set.
    for (std::string& file : FilesUnder(request.out_dir + "/tiers")) {
      if (file.find(".jsonl") != std::string::npos) {
        files.push_back(std::move(file));
      }
    }
  }
  if (!quarantined && files.empty() && !WroteRejected(run)) {
    throw std::runtime_error(fmt::format(
        "{} counts {} {} documents, but the run did not write rejected "
        "documents ([output] write_rejected = false); run it again with "
        "write_rejected = true to see them",
        request.out_dir + "/run.json", result.counted, request.reason));
  }

  // Algorithm R: the i-th match replaces a kept one with probability
  // count / (i + 1). mt19937_64's output is fixed by the standard, unlike
  // the distributions, so the modulo keeps samples equal across platforms.
  std::mt19937_64 random(request.seed);
  std::vector<std::pair<uint64_t, std::string>> kept;
  simdjson::dom::parser parser;
  for (const std::string& file : files) {
    ForEachLine(file, [&](std::string_view line) {
      simdjson::dom::element doc;
      if (parser.parse(line).get(doc)) return;
      std::string_view found;
      const auto field = quarantined ? doc["reason"] : doc["needle"]["reason"];
      if (field.get(found) || found != request.reason) return;
      const uint64_t index = result.matched++;
      if (kept.size() < request.count) {
        kept.emplace_back(index, line);
      } else if (request.count > 0) {
        const uint64_t slot = random() % (index + 1);
        if (slot < request.count) kept[slot] = {index, std::string(line)};
      }
    });
  }
  if (result.matched == 0) {
    throw std::runtime_error(fmt::format(
        "{}/run.json counts {} {} documents, but {}/{}/ holds none; were "
        "they written ([output] write_rejected = true)?",
        request.out_dir, result.counted, request.reason, request.out_dir,
        result.folder));
  }
  std::sort(kept.begin(), kept.end());
  for (auto& [index, line] : kept) result.lines.push_back(std::move(line));
  return result;
}

}  // namespace needle
