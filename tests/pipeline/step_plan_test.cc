// A run as steps that run alone (`needle step`, one Slurm task each): the
// same outputs as one RunPipeline, and PlanSteps' view of what is done.
#include "pipeline/step_plan.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "pipeline/run.h"
#include "tests/test_util.h"

namespace needle {
namespace {

namespace fs = std::filesystem;
using testing::MakeTempDir;
using testing::ReadFile;
using testing::RequestFor;
using testing::SampleDir;

// No stages (so no timings in the records), dedup and tiers: every step.
RunConfig StepConfig(bool dedup = true, bool tiers = true) {
  RunConfig config;
  config.pipeline.stages.clear();
  config.output.write_rejected = true;
  if (dedup) {
    config.dedup.enabled = true;
    config.hasher = std::make_unique<MinHasher>(config.dedup);
  }
  if (tiers) {
    config.tiers.enabled = true;
    config.tiers.tiers = {"raw", "unique: reason == ok and dup_count <= 1"};
    config.tier_specs =
        ParseTiers(config.tiers.tiers, [](size_t, size_t) { return "t"; });
  }
  config.hash =
      fmt::format("steps{}{}", dedup ? "+dedup" : "", tiers ? "+tiers" : "");
  return config;
}

// Every file of a run but the two that differ between any two runs: the
// tiers' markers (they hold file times) and run.json (timings), whose
// timing line is dropped instead.
std::map<std::string, std::string> RunFiles(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const std::string name = fs::relative(entry.path(), dir).string();
    if (!entry.is_regular_file() || name.starts_with("tiers/done/")) continue;
    std::string bytes = ReadFile(entry.path().string());
    if (name == "run.json") bytes.erase(bytes.find("\n\"timing\""));
    files[name] = std::move(bytes);
  }
  return files;
}

std::vector<std::string> Names(const std::vector<StepTasks>& steps) {
  std::vector<std::string> names;
  names.reserve(steps.size());
  for (const StepTasks& step : steps) {
    names.emplace_back(StepName(step.kind));
  }
  return names;
}

std::vector<std::vector<size_t>> Missing(const std::vector<StepTasks>& steps) {
  std::vector<std::vector<size_t>> missing;
  missing.reserve(steps.size());
  for (const StepTasks& step : steps) missing.push_back(step.Missing());
  return missing;
}

TEST(StepPlanTest, StepsRunAloneInAnyShardOrderEqualOneRun) {
  const RunConfig config = StepConfig();
  const std::string reference = MakeTempDir();
  RunPipeline(config, RequestFor({SampleDir()}, reference, 2));

  const std::string out = MakeTempDir();
  const RunRequest request = RequestFor({SampleDir()}, out);
  const std::vector<Shard> shards = FindShards(request.inputs);
  ASSERT_EQ(shards.size(), 3u);
  for (const size_t task : {2, 0, 1}) {
    const std::vector<size_t> one = {task};
    EXPECT_EQ(RunAnnotate(config, request, shards, one),
              std::vector<bool>{false});
  }
  EXPECT_TRUE(RunCluster(config, request, shards));
  for (const size_t task : {1, 2, 0}) {
    EXPECT_TRUE(RunFinalize(config, request, shards, task));
  }
  EXPECT_TRUE(RunTiers(config, request, shards).has_value());
  const RunOutcome outcome = RunReport(config, request, shards, {});
  EXPECT_GT(outcome.totals.reasons[static_cast<int>(Reason::kExactDuplicate)],
            0u);
  EXPECT_EQ(RunFiles(out), RunFiles(reference));

  // Each step again: all done, nothing rewritten.
  const std::vector<size_t> all = {0, 1, 2};
  EXPECT_EQ(RunAnnotate(config, request, shards, all),
            std::vector<bool>(3, true));
  EXPECT_FALSE(RunCluster(config, request, shards));
  EXPECT_FALSE(RunFinalize(config, request, shards, 1));
  EXPECT_FALSE(RunTiers(config, request, shards).has_value());
}

TEST(StepPlanTest, AStepRefusesToRunBeforeTheStepsItReads) {
  const RunConfig config = StepConfig();
  const std::string out = MakeTempDir();
  const RunRequest request = RequestFor({SampleDir()}, out);
  const std::vector<Shard> shards = FindShards(request.inputs);
  const std::vector<size_t> first = {0};
  RunAnnotate(config, request, shards, first);
  try {
    RunCluster(config, request, shards);
    FAIL() << "clustered with a shard not annotated";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()),
              out +
                  "/done/mixed.json: step annotate is not done for "
                  "mixed.jsonl.zst (task 1)");
  }
  const std::vector<size_t> rest = {1, 2};
  RunAnnotate(config, request, shards, rest);
  RunCluster(config, request, shards);
  try {
    RunTiers(config, request, shards);
    RunReport(config, request, shards, {});
    FAIL() << "reported before finalize";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()),
              "step finalize is not done for brown.jsonl (task 0)");
  }
}

TEST(StepPlanTest, PlanListsTheStepsTheConfigNeeds) {
  const std::string out = MakeTempDir();
  const std::vector<Shard> shards = FindShards({SampleDir()});
  EXPECT_EQ(Names(PlanSteps(StepConfig(), shards, out)),
            (std::vector<std::string>{"annotate", "cluster", "finalize",
                                      "tiers", "report"}));
  EXPECT_EQ(Names(PlanSteps(StepConfig(false, false), shards, out)),
            (std::vector<std::string>{"annotate", "report"}));
  const std::vector<StepTasks> fresh =
      PlanSteps(StepConfig(true, false), shards, out);
  EXPECT_EQ(Missing(fresh),
            (std::vector<std::vector<size_t>>{{0, 1, 2}, {0}, {0, 1, 2}, {0}}));
}

TEST(StepPlanTest, PlanFindsMissingTasksAndRedoesTheStepsAfterThem) {
  const RunConfig config = StepConfig();
  const std::string out = MakeTempDir();
  const RunRequest request = RequestFor({SampleDir()}, out);
  RunPipeline(config, request);
  const std::vector<Shard> shards = FindShards(request.inputs);
  using Tasks = std::vector<std::vector<size_t>>;
  EXPECT_EQ(Missing(PlanSteps(config, shards, out)),
            (Tasks{{}, {}, {}, {}, {}}));

  // A lost final record: that finalize task, then tiers and report.
  fs::remove(out + "/final/mixed.json");
  EXPECT_EQ(Missing(PlanSteps(config, shards, out)),
            (Tasks{{}, {}, {1}, {0}, {0}}));
  EXPECT_TRUE(RunFinalize(config, request, shards, 1));
  EXPECT_EQ(Missing(PlanSteps(config, shards, out)),
            (Tasks{{}, {}, {}, {}, {}}));

  // A lost annotate record: that shard, then every task after it.
  fs::remove(out + "/done/brown.json");
  EXPECT_EQ(Missing(PlanSteps(config, shards, out)),
            (Tasks{{0}, {0}, {0, 1, 2}, {0}, {0}}));

  // A changed config: everything.
  RunConfig changed = StepConfig();
  changed.hash = "another";
  RunPipeline(config, request);
  EXPECT_EQ(Missing(PlanSteps(changed, shards, out)),
            (Tasks{{0, 1, 2}, {0}, {0, 1, 2}, {0}, {0}}));
}

TEST(StepPlanTest, ReportIsDueAgainWhenAMarkerIsNewerThanRunJson) {
  const RunConfig config = StepConfig(false, false);
  const std::string out = MakeTempDir();
  RunPipeline(config, RequestFor({SampleDir()}, out));
  const std::vector<Shard> shards = FindShards({SampleDir()});
  EXPECT_TRUE(PlanSteps(config, shards, out).back().done[0]);
  fs::last_write_time(
      out + "/done/udhr.json",
      fs::last_write_time(out + "/run.json") + std::chrono::seconds(1));
  EXPECT_FALSE(PlanSteps(config, shards, out).back().done[0]);
}

TEST(StepPlanTest, RunStepChecksTheTaskAndTheConfig) {
  const std::string out = MakeTempDir();
  const RunRequest request = RequestFor({SampleDir()}, out);
  try {
    RunStep(StepConfig(), request, StepKind::kAnnotate, 3, {});
    FAIL() << "ran task 3 of 3 shards";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()),
              "task 3: the run has 3 shards (tasks 0 to 2)");
  }
  RunConfig plain = StepConfig(false, false);
  plain.path = "run.toml";
  try {
    RunStep(plain, request, StepKind::kCluster, std::nullopt, {});
    FAIL() << "clustered without [dedup]";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()),
              "step cluster needs [dedup] enabled = true in run.toml");
  }
  const StepResult annotated =
      RunStep(plain, request, StepKind::kAnnotate, 1, {});
  EXPECT_EQ(annotated.text,
            "needle: annotate mixed.jsonl.zst (task 1): done\n");
  EXPECT_FALSE(annotated.outcome.has_value());
  EXPECT_EQ(RunStep(plain, request, StepKind::kAnnotate, 1, {}).text,
            "needle: annotate mixed.jsonl.zst (task 1): was done\n");
}

TEST(StepPlanTest, ReportRecordsWhichShardsWereResumed) {
  const RunConfig config = StepConfig(false, false);
  const std::string out = MakeTempDir();
  const RunRequest request = RequestFor({SampleDir()}, out);
  RunStep(config, request, StepKind::kAnnotate, std::nullopt, {});
  const StepResult report =
      RunStep(config, request, StepKind::kReport, std::nullopt, {0, 2});
  ASSERT_TRUE(report.outcome.has_value());
  EXPECT_EQ(report.outcome->shards_resumed, 2u);
  const std::string run = ReadFile(out + "/run.json");
  const size_t brown = run.find("\"name\":\"brown.jsonl\"");
  const size_t mixed = run.find("\"name\":\"mixed.jsonl.zst\"");
  const size_t udhr = run.find("\"name\":\"udhr.jsonl.gz\"");
  EXPECT_EQ(run.find("\"resumed\":true", brown),
            run.find("\"resumed\"", brown));
  EXPECT_EQ(run.find("\"resumed\":false", mixed),
            run.find("\"resumed\"", mixed));
  EXPECT_EQ(run.find("\"resumed\":true", udhr), run.find("\"resumed\"", udhr));
}

TEST(StepPlanTest, ArrayRangesAreWhatSbatchArrayTakes) {
  const std::vector<size_t> tasks = {0, 1, 2, 5, 7, 8};
  EXPECT_EQ(ArrayRanges(tasks), "0-2,5,7-8");
  EXPECT_EQ(ArrayRanges(std::vector<size_t>{4}), "4");
  EXPECT_EQ(ArrayRanges(std::vector<size_t>{}), "");
  EXPECT_EQ(ParseArrayRanges("0-2,5,7-8"), tasks);
  EXPECT_EQ(ParseArrayRanges("12"), std::vector<size_t>{12});
  for (const char* bad : {"", "2-1", "a", "1,", "-3", "1-"}) {
    EXPECT_THROW(ParseArrayRanges(bad), std::runtime_error) << bad;
  }
}

}  // namespace
}  // namespace needle
