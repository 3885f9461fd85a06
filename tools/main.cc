// The `needle` command: subcommands only; the work lives in the libraries.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include "pipeline/report.h"
#include "pipeline/review.h"
#include "pipeline/run.h"
#include "pipeline/sample.h"
#include "pipeline/slurm.h"
#include "pipeline/step_plan.h"
#include "pipeline/tune.h"
#include "stages/quality_train.h"
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

// The summary of `needle run` and `needle step report`: 3 when the error
// rate is above the limit.
int PrintOutcome(const RunConfig& config, const RunRequest& request,
                 const RunOutcome& outcome) {
  const ShardCounters& t = outcome.totals;
  if (!request.quiet) {
    fmt::print("{}", outcome.funnel);
    fmt::print(
        "needle: {} shards ({} resumed), {} lines: {} kept, {} "
        "rejected, {} quarantined{}\n",
        outcome.shards, outcome.shards_resumed, t.lines, t.kept, t.rejected,
        t.quarantined, QuarantineSummary(t));
    if (config.tiers.enabled) {
      fmt::print(
          "needle: documents in {0}/tiers/<tier>/, summary in "
          "{0}/run.json\n",
          request.out_dir);
    } else {
      fmt::print(
          "needle: kept documents in {0}/kept/, summary in {0}/run.json\n",
          request.out_dir);
    }
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

int RunCommand(const std::string& config_path, const RunRequest& request) {
  const RunConfig config = LoadRunConfig(ConfigFile::Load(config_path));
  return PrintOutcome(config, request, RunPipeline(config, request));
}

// `needle run --executor slurm`: submits, and returns before the run ends.
int SlurmCommand(const std::string& config_path, SlurmRun run) {
  const RunConfig config = LoadRunConfig(ConfigFile::Load(config_path));
  run.config_path = config_path;
  run.workdir = std::filesystem::current_path().string();
  run.needle_binary = std::filesystem::canonical("/proc/self/exe").string();
  fmt::print("{}", SubmitToSlurm(config, run));
  return 0;
}

// A per-shard step's task: --task, else the Slurm array index, else every
// shard.
int StepCommand(const std::string& config_path, const RunRequest& request,
                const std::string& step_name, std::optional<size_t> task,
                const std::string& resumed) {
  const RunConfig config = LoadRunConfig(ConfigFile::Load(config_path));
  const StepKind step = *ParseStepName(step_name);
  const char* array_task = std::getenv("SLURM_ARRAY_TASK_ID");
  if (!task && array_task != nullptr && IsPerShard(step)) {
    task = ParseArrayRanges(array_task).at(0);
  }
  const StepResult result = RunStep(
      config, request, step, task,
      resumed.empty() ? std::vector<size_t>{} : ParseArrayRanges(resumed));
  if (!request.quiet) fmt::print("{}", result.text);
  return result.outcome ? PrintOutcome(config, request, *result.outcome) : 0;
}

// Reads what was submitted from OUT/slurm/jobs.json and works from its
// directory, where the config's relative paths (models) start.
int StatusCommand(const std::string& out_dir) {
  const std::string out = std::filesystem::absolute(out_dir).string();
  const std::optional<SlurmJobs> jobs = ReadSlurmJobs(out);
  if (!jobs) {
    throw std::runtime_error(
        fmt::format("{}/slurm/jobs.json: no such file; `needle status` "
                    "follows runs submitted with --executor slurm",
                    out_dir));
  }
  std::filesystem::current_path(jobs->workdir);
  const RunConfig config = LoadRunConfig(ConfigFile::Load(jobs->config_path));
  fmt::print("{}", SlurmStatusText(config, *jobs, out));
  return 0;
}

// Reads only [corpus] and [budget]: the config's other sections shaped the
// run itself, and a new plan must not need its models.
int BudgetCommand(const std::string& run_dir, const std::string& config_path) {
  ConfigFile config = ConfigFile::Load(config_path);
  const Report report = WriteReport(run_dir, ReadBudgetConfig(config));
  fmt::print("{}", ReportSummaryText(report));
  fmt::print(
      "needle: report in {0}/report.html, {0}/report.md and "
      "{0}/report.json\n",
      run_dir);
  return 0;
}

// The sampled lines go to stdout as JSONL (for jq); what they are, to
// stderr.
int SampleCommand(const SampleRequest& request) {
  const SampleResult result = SampleDocuments(request);
  for (const std::string& line : result.lines) fmt::print("{}\n", line);
  fmt::print(stderr,
             "needle: {} of {} {} documents in {}/{}/ (run.json counts {}), "
             "seed {}\n",
             result.lines.size(), result.matched, request.reason,
             request.out_dir, result.folder, result.counted, request.seed);
  return 0;
}

int ReviewExportCommand(const ReviewExportRequest& request) {
  const ReviewExportResult result = ExportReviewSheet(request);
  std::string strata;
  for (const ReviewExportResult::Stratum& stratum : result.strata) {
    strata += fmt::format("{}{} {}/{}", strata.empty() ? "" : ", ",
                          stratum.lang, stratum.sampled, stratum.members);
  }
  fmt::print(
      "needle: {} of {} documents in tier {} and above, by language "
      "sampled/members: {}; seed {}\n",
      result.sampled, result.members, request.tier, strata, request.seed);
  fmt::print(
      "needle: fill the verdict column (keep/drop) of {}, then run "
      "`needle review import --run {} {}`\n",
      request.sheet_path, request.run_dir, request.sheet_path);
  return 0;
}

// A sheet's mistakes go to stderr as `sheet.csv:LINE: what`, all of them,
// and nothing is stored.
int ReviewImportCommand(const std::string& run_dir, const std::string& sheet) {
  const ReviewImportResult result = ImportReviewSheet(run_dir, sheet, sheet);
  for (const std::string& error : result.errors) {
    fmt::print(stderr, "{}\n", error);
  }
  if (!result.errors.empty()) return kExitFailure;
  fmt::print(
      "needle: {} verdicts read from {}; {} stored in "
      "{}/review/verdicts.jsonl\n\n{}\nneedle: summary in {}\n",
      result.verdicts_read, sheet, result.verdicts_stored, run_dir,
      ReviewSummaryText(result.summary), ReviewSummaryJsonPath(run_dir));
  if (result.report_rewritten) {
    fmt::print("needle: precision shown in {}/report.html\n", run_dir);
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
  std::string executor = "local";
  SlurmRun slurm;
  SlurmOptions& so = slurm.options;
  run->add_option("--executor", executor,
                  "local (default) or slurm: submit the steps as sbatch jobs "
                  "and return; see `needle status`")
      ->check(CLI::IsMember({"local", "slurm"}));
  const std::string slurm_group = "Slurm (with --executor slurm)";
  std::vector<CLI::Option*> slurm_options = {
      run->add_option("--partition", so.partition, "sbatch --partition")
          ->group(slurm_group),
      run->add_option("--cpus-per-task", so.cpus_per_task,
                      "CPUs, and threads, of each task (default 1)")
          ->check(CLI::Range(1, 1024))
          ->group(slurm_group),
      run->add_option("--mem", so.mem, "sbatch --mem per task, e.g. 8G")
          ->group(slurm_group),
      run->add_option("--time", so.time, "sbatch --time per task, e.g. 2:00:00")
          ->group(slurm_group),
      run->add_option("--sbatch-args", so.sbatch_args,
                      "More sbatch flags, as typed in a shell")
          ->group(slurm_group),
      run->add_option("--max-retries", so.max_retries,
                      "Re-runs of a failed task (default 2)")
          ->check(CLI::Range(0, 100))
          ->group(slurm_group),
      run->add_flag("--dry-run", so.dry_run,
                    "Write the scripts to OUT/slurm/ and print the sbatch "
                    "commands; submit nothing")
          ->group(slurm_group)};

  CLI::App* step = app.add_subcommand(
      "step", "Run one step of a run alone: what each Slurm task runs");
  std::string step_name;
  std::string step_config;
  RunRequest step_request;
  step_request.threads = request.threads;
  std::optional<size_t> step_task;
  std::string step_resumed;
  step->add_option("step", step_name,
                   "annotate, cluster, finalize, tiers or report")
      ->required()
      ->check(CLI::IsMember(
          {"annotate", "cluster", "finalize", "tiers", "report"}));
  step->add_option("-c,--config", step_config, "TOML config file")
      ->required()
      ->check(CLI::ExistingFile);
  step->add_option("-o,--output", step_request.out_dir, "Output directory")
      ->required();
  step->add_option("inputs", step_request.inputs, "As given to `needle run`")
      ->required();
  step->add_option("--task", step_task,
                   "annotate, finalize: the shard's index in the sorted "
                   "shard list (default: SLURM_ARRAY_TASK_ID, else all)");
  step->add_option("-t,--threads", step_request.threads,
                   "Worker threads (default: all cores)")
      ->check(CLI::Range(1, 1024));
  step->add_option("--resumed", step_resumed,
                   "report: tasks an earlier run annotated, as 0-2,5");
  step->add_option("--max-error-rate", step_request.max_error_rate,
                   "report: as for `needle run`")
      ->check(CLI::Range(0.0, 1.0));
  step->add_flag("-q,--quiet", step_request.quiet, "No summary");

  CLI::App* status = app.add_subcommand(
      "status",
      "Per step of a Slurm run: tasks done, running, failed, "
      "pending");
  std::string status_out;
  status->add_option("out", status_out, "OUT of a run submitted to Slurm")
      ->required()
      ->check(CLI::ExistingDirectory);

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

  CLI::App* quality = app.add_subcommand("quality", "Quality classifiers");
  quality->require_subcommand(1);
  CLI::App* train = quality->add_subcommand(
      "train",
      "Train a fastText quality classifier for the quality stage, holding "
      "out [quality_train] holdout_fraction to report precision, recall "
      "and ROC AUC");
  QualityTrainRequest train_request;
  std::string train_config;
  train
      ->add_option("--positive", train_request.positive,
                   "High-quality JSONL: files, directories or globs")
      ->required();
  train
      ->add_option("--negative", train_request.negative,
                   "Low-quality JSONL: files, directories or globs")
      ->required();
  train->add_option("-o,--output", train_request.output, "Model file to write")
      ->required();
  train
      ->add_option("-c,--config", train_config,
                   "TOML file whose [quality_train] section sets the "
                   "hyper-parameters (default: configs/default.toml's)")
      ->check(CLI::ExistingFile);

  CLI::App* tune = app.add_subcommand(
      "tune", "Re-apply [tiers] to a finished run from its stored signals");
  TuneRequest tune_request;
  std::string tune_config;
  tune->add_option("--run", tune_request.run_dir, "OUT of a run with tiers")
      ->required();
  tune->add_option("-c,--config", tune_config,
                   "Config differing from the run's in [tiers]/[budget] only")
      ->required()
      ->check(CLI::ExistingFile);
  tune->add_flag("--write", tune_request.write,
                 "Rewrite tiers/, tiers/funnel.json and run.json");
  tune->add_option("--sweep", tune_request.sweep,
                   "TIER.SIGNAL=FROM:TO:STEP: the funnel at each threshold");

  CLI::App* budget = app.add_subcommand(
      "budget",
      "Recompute OUT/report.{json,md,html} from OUT/run.json with the "
      "[corpus] and [budget] of a config");
  std::string budget_run;
  std::string budget_config;
  budget->add_option("--run", budget_run, "OUT of a finished run")
      ->required()
      ->check(CLI::ExistingDirectory);
  budget
      ->add_option("-c,--config", budget_config,
                   "TOML file; only [corpus] and [budget] are read")
      ->required()
      ->check(CLI::ExistingFile);

  CLI::App* sample = app.add_subcommand(
      "sample", "Print documents behind a reason's count in OUT/run.json");
  SampleRequest sample_request;
  sample->add_option("--run", sample_request.out_dir, "OUT of a finished run")
      ->required()
      ->check(CLI::ExistingDirectory);
  sample
      ->add_option("--reason", sample_request.reason,
                   "A reason as run.json counts it: lang_low_score, "
                   "bad_json, near_duplicate...")
      ->required();
  sample->add_option("-n", sample_request.count, "Documents to print")
      ->check(CLI::Range(1, 1000000));
  sample->add_option("--seed", sample_request.seed,
                     "Seed of the random sample (default 0)");

  CLI::App* review = app.add_subcommand(
      "review", "Human review of a run's tiers: sample sheets and verdicts");
  review->require_subcommand(1);
  CLI::App* review_export = review->add_subcommand(
      "export",
      "Write a CSV sheet of a random sample of a tier's documents, "
      "stratified by language");
  ReviewExportRequest export_request;
  review_export
      ->add_option("--run", export_request.run_dir, "OUT of a run with tiers")
      ->required()
      ->check(CLI::ExistingDirectory);
  review_export
      ->add_option("--tier", export_request.tier,
                   "Sample the documents of this tier and every higher one")
      ->required();
  review_export->add_option("-n", export_request.count, "Documents to sample")
      ->check(CLI::Range(1, 1000000));
  review_export->add_option("--seed", export_request.seed,
                            "Seed of the sample (default 0)");
  review_export
      ->add_option("-o,--output", export_request.sheet_path,
                   "CSV sheet to write")
      ->required();
  CLI::App* review_import = review->add_subcommand(
      "import",
      "Store a filled sheet's verdicts with the run and write "
      "OUT/review/summary.json");
  std::string import_run;
  std::string import_sheet;
  review_import->add_option("--run", import_run, "OUT the sheet was drawn from")
      ->required()
      ->check(CLI::ExistingDirectory);
  review_import->add_option("sheet", import_sheet, "The filled CSV sheet")
      ->required()
      ->check(CLI::ExistingFile);

  CLI11_PARSE(app, argc, argv);

  if (run->parsed()) {
    if (max_error_rate >= 0) request.max_error_rate = max_error_rate;
    request.progress = ::isatty(STDERR_FILENO) != 0;
    for (int i = 0; i < argc; ++i) {
      request.command_line += (i ? " " : "") + std::string(argv[i]);
    }
    if (executor == "slurm") {
      slurm.request = request;
      return SlurmCommand(config_path, slurm);
    }
    for (const CLI::Option* option : slurm_options) {
      if (option->count() > 0) {
        throw std::runtime_error(option->get_name() +
                                 " needs --executor slurm");
      }
    }
    return RunCommand(config_path, request);
  }
  if (step->parsed()) {
    for (int i = 0; i < argc; ++i) {
      step_request.command_line += (i ? " " : "") + std::string(argv[i]);
    }
    return StepCommand(step_config, step_request, step_name, step_task,
                       step_resumed);
  }
  if (status->parsed()) return StatusCommand(status_out);
  if (check->parsed()) {
    LoadRunConfig(ConfigFile::Load(config_file));
    fmt::print("{}: ok\n", config_file);
  } else if (show->parsed()) {
    const RunConfig shown = LoadRunConfig(ConfigFile::Load(config_file));
    fmt::print("{}\n{}", shown.resolved_toml, shown.budget.resolved_toml);
  } else if (budget->parsed()) {
    return BudgetCommand(budget_run, budget_config);
  } else if (sample->parsed()) {
    return SampleCommand(sample_request);
  } else if (defaults->parsed()) {
    fmt::print("{}", DefaultConfigToml());
  } else if (train->parsed()) {
    QualityTrainOptions options;
    ConfigFile file = train_config.empty() ? ConfigFile::Empty()
                                           : ConfigFile::Load(train_config);
    ReadQualityTrainSection(file, &options);
    const QualityTrainResult result = TrainQualityModel(options, train_request);
    fmt::print("{}", QualityTrainReport(options, train_request, result));
  } else if (review_export->parsed()) {
    return ReviewExportCommand(export_request);
  } else if (review_import->parsed()) {
    return ReviewImportCommand(import_run, import_sheet);
  } else if (tune->parsed()) {
    const RunConfig config =
        LoadRunConfig(ConfigFile::Load(tune_config), /*build_stages=*/false);
    fmt::print("{}", TuneRun(config, tune_request));
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
