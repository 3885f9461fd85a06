// The `needle` command: subcommands only; the work lives in the libraries.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <thread>

#include "pipeline/run.h"
#include "stages/registry.h"

namespace needle {
namespace {

constexpr int kExitFailure = 1;
constexpr int kExitErrorRate = 3;

std::string QuarantineSummary(const ShardCounters& totals) {
  std::string out;
  for (int i = 0; i < kReasonCount; ++i) {
    if (totals.reasons[i] == 0) continue;
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ",
                       ReasonName(static_cast<Reason>(i)), totals.reasons[i]);
  }
  return out.empty() ? "" : " (" + out + ")";
}

int RunCommand(const std::string& config_path, RunRequest request) {
  const RunConfig config = LoadRunConfig(ConfigFile::Load(config_path));
  const RunOutcome outcome = RunPipeline(config, request);
  const ShardCounters& t = outcome.totals;
  if (!request.quiet) {
    fmt::print(
        "needle: {} shards ({} resumed), {} lines: {} kept, {} "
        "rejected, {} quarantined{}\n",
        outcome.shards, outcome.shards_resumed, t.lines, t.kept, t.rejected,
        t.quarantined, QuarantineSummary(t));
    fmt::print("needle: kept documents in {0}/kept/, summary in {0}/run.json\n",
               request.out_dir);
  }
  if (outcome.error_rate_exceeded) {
    fmt::print(stderr,
               "needle: error rate {:.4f} exceeds --max-error-rate {}; see "
               "{}/quarantine/\n",
               outcome.error_rate, outcome.max_error_rate, request.out_dir);
    return kExitErrorRate;
  }
  return 0;
}

int Main(int argc, char** argv) {
  CLI::App app{
      "Needle: curates JSONL crawl shards for LLM pretraining.\n"
      "Start with `needle run --config configs/sample.toml -o out data/`."};
  app.set_version_flag("--version", NeedleVersion());
  app.require_subcommand(1);

  CLI::App* run = app.add_subcommand(
      "run", "Process shards (files, directories, globs) into OUT");
  std::string config_path;
  RunRequest request;
  request.threads = static_cast<int>(std::thread::hardware_concurrency());
  double max_error_rate = -1;
  run->add_option("-c,--config", config_path, "TOML config file")
      ->required()
      ->check(CLI::ExistingFile);
  run->add_option("-o,--output", request.out_dir, "Output directory")
      ->required();
  run->add_option("inputs", request.inputs,
                  ".jsonl, .jsonl.gz, .jsonl.zst files, directories or globs")
      ->required();
  run->add_option("-t,--threads", request.threads,
                  "Worker threads (default: all cores)")
      ->check(CLI::Range(1, 1024));
  run->add_option("--max-error-rate", max_error_rate,
                  "Exit with status 3 when quarantined / non-blank lines "
                  "exceeds this (default: [pipeline].max_error_rate)")
      ->check(CLI::Range(0.0, 1.0));
  run->add_flag("-q,--quiet", request.quiet,
                "No progress line, warnings or summary");

  CLI::App* config = app.add_subcommand("config", "Check or show a config");
  config->require_subcommand(1);
  std::string config_file;
  CLI::App* check = config->add_subcommand("check", "Check a config file");
  check->add_option("file", config_file)->required();
  CLI::App* show = config->add_subcommand(
      "show", "Print a config resolved, with every default filled in");
  show->add_option("file", config_file)->required();
  CLI::App* defaults = config->add_subcommand(
      "defaults", "Print every section and key with its default and help");

  CLI::App* stages = app.add_subcommand("stages", "About stages");
  stages->require_subcommand(1);
  CLI::App* list = stages->add_subcommand("list", "List registered stages");

  CLI11_PARSE(app, argc, argv);

  if (run->parsed()) {
    if (max_error_rate >= 0) request.max_error_rate = max_error_rate;
    request.progress = ::isatty(STDERR_FILENO) != 0;
    for (int i = 0; i < argc; ++i) {
      request.command_line += (i ? " " : "") + std::string(argv[i]);
    }
    return RunCommand(config_path, request);
  }
  if (check->parsed()) {
    LoadRunConfig(ConfigFile::Load(config_file));
    fmt::print("{}: ok\n", config_file);
  } else if (show->parsed()) {
    fmt::print("{}",
               LoadRunConfig(ConfigFile::Load(config_file)).resolved_toml);
  } else if (defaults->parsed()) {
    fmt::print("{}", DefaultConfigToml());
  } else if (list->parsed()) {
    for (const StageInfo& info : RegisteredStages()) {
      fmt::print("{:<20} {}\n", info.name, info.description);
    }
  }
  return 0;
}

}  // namespace
}  // namespace needle

int main(int argc, char** argv) {
  try {
    return needle::Main(argc, argv);
  } catch (const std::exception& error) {
    fmt::print(stderr, "needle: {}\n", error.what());
    return needle::kExitFailure;
  }
}
