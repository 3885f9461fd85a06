// The Slurm executor against stand-ins for sbatch, squeue, scancel and sacct
// (shell scripts first on PATH that log their arguments), and its scripts
// run by bash with a stand-in needle. tests/slurm/run_slurm_test.sh runs the
// real thing on a one-node cluster.
#include "pipeline/slurm.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/test_util.h"

namespace needle {
namespace {

namespace fs = std::filesystem;
using testing::Lines;
using testing::MakeTempDir;
using testing::ReadFile;
using testing::RequestFor;
using testing::SampleDir;
using testing::WriteFile;

void WriteScript(const std::string& path, const std::string& body) {
  WriteFile(path, "#!/bin/sh\n" + body);
  fs::permissions(path, fs::perms::owner_all, fs::perm_options::add);
}

class SlurmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_ = MakeTempDir();
    // sbatch prints job ids from 100 up (and fails at id fail_at);
    // squeue prints squeue.out.
    WriteScript(fake_ + "/sbatch",
                "n=$(cat \"$FAKE/next\" 2>/dev/null || echo 100)\n"
                "[ \"$n\" = \"$(cat \"$FAKE/fail_at\" 2>/dev/null)\" ] && "
                "exit 1\n"
                "echo \"$*\" >>\"$FAKE/sbatch.log\"\n"
                "echo $((n + 1)) >\"$FAKE/next\"\n"
                "echo \"$n\"\n");
    WriteScript(fake_ + "/squeue", "cat \"$FAKE/squeue.out\" 2>/dev/null\n");
    WriteScript(fake_ + "/scancel", "echo \"$*\" >>\"$FAKE/scancel.log\"\n");
    WriteScript(fake_ + "/sacct",
                "echo 'Slurm accounting storage is disabled' >&2\nexit 1\n");
    path_ = std::getenv("PATH");
    setenv("PATH", (fake_ + ":" + path_).c_str(), 1);
    setenv("FAKE", fake_.c_str(), 1);
    out_ = MakeTempDir();
  }
  void TearDown() override {
    setenv("PATH", path_.c_str(), 1);
    unsetenv("FAKE");
  }

  // No stages, dedup and tiers: every step.
  static RunConfig Config() {
    RunConfig config;
    config.pipeline.stages.clear();
    config.dedup.enabled = true;
    config.hasher = std::make_unique<MinHasher>(config.dedup);
    config.tiers.enabled = true;
    config.tiers.tiers = {"raw", "unique: reason == ok and dup_count <= 1"};
    config.tier_specs =
        ParseTiers(config.tiers.tiers, [](size_t, size_t) { return "t"; });
    config.hash = "slurm-test";
    return config;
  }

  SlurmRun Run(bool dry_run = false) const {
    SlurmRun run;
    run.request = RequestFor({SampleDir()}, out_);
    run.config_path = "configs/run.toml";
    run.workdir = fs::current_path().string();
    run.needle_binary = "/opt/needle/bin/needle";
    run.options.dry_run = dry_run;
    return run;
  }

  std::vector<std::string> Submitted() const {
    return Lines(ReadFile(fake_ + "/sbatch.log"));
  }

  std::string fake_;
  std::string path_;
  std::string out_;
};

TEST_F(SlurmTest, SubmitsOneJobPerStepChainedByDependencies) {
  const std::string text = SubmitToSlurm(Config(), Run());
  const std::string dir = out_ + "/slurm/";
  EXPECT_EQ(
      Submitted(),
      (std::vector<std::string>{
          "--parsable --array=0-2 " + dir + "annotate.sbatch",
          "--parsable --dependency=afterok:100 --kill-on-invalid-dep=yes " +
              dir + "cluster.sbatch",
          "--parsable --array=0-2 --dependency=afterok:101 "
          "--kill-on-invalid-dep=yes " +
              dir + "finalize.sbatch",
          "--parsable --dependency=afterok:102 --kill-on-invalid-dep=yes " +
              dir + "tiers.sbatch",
          "--parsable --dependency=afterok:103 --kill-on-invalid-dep=yes " +
              dir + "report.sbatch"}));
  EXPECT_NE(text.find("needle: annotate job 100, tasks 0-2: sbatch --parsable "
                      "--array=0-2 "),
            std::string::npos)
      << text;

  const std::optional<SlurmJobs> jobs = ReadSlurmJobs(out_);
  ASSERT_TRUE(jobs.has_value());
  EXPECT_EQ(jobs->config_path, "configs/run.toml");
  EXPECT_EQ(jobs->inputs, std::vector<std::string>{SampleDir()});
  EXPECT_EQ(jobs->workdir, fs::current_path().string());
  ASSERT_EQ(jobs->submissions.size(), 1u);
  const std::vector<SlurmJob>& submitted = jobs->submissions[0];
  ASSERT_EQ(submitted.size(), 5u);
  EXPECT_EQ(submitted[2].step, StepKind::kFinalize);
  EXPECT_EQ(submitted[2].id, "102");
  EXPECT_EQ(submitted[2].tasks, (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(submitted[4].step, StepKind::kReport);
  EXPECT_EQ(submitted[4].tasks, std::vector<size_t>{0});
}

TEST_F(SlurmTest, ResubmitsOnlyMissingTasksAndTheStepsAfterThem) {
  const RunConfig config = Config();
  RunPipeline(config, RequestFor({SampleDir()}, out_));
  EXPECT_NE(SubmitToSlurm(config, Run()).find("nothing to submit"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(fake_ + "/sbatch.log"));

  fs::remove(out_ + "/done/mixed.json");
  SubmitToSlurm(config, Run());
  const std::vector<std::string> submitted = Submitted();
  ASSERT_EQ(submitted.size(), 5u);
  EXPECT_TRUE(submitted[0].starts_with("--parsable --array=1 "))
      << submitted[0];
  EXPECT_TRUE(submitted[2].starts_with("--parsable --array=0-2 "))
      << submitted[2];
  // The shards the earlier run annotated are "resumed" in run.json.
  EXPECT_NE(ReadFile(out_ + "/slurm/report.sbatch").find(" --resumed 0,2 "),
            std::string::npos);
  EXPECT_EQ(ReadSlurmJobs(out_)->submissions.size(), 1u);
}

TEST_F(SlurmTest, RefusesWhileAnEarlierSubmissionIsQueued) {
  SubmitToSlurm(Config(), Run());
  WriteFile(fake_ + "/squeue.out",
            "100_1|RUNNING|None\n101|PENDING|Dependency\n999|RUNNING|None\n");
  try {
    SubmitToSlurm(Config(), Run());
    FAIL() << "submitted beside queued jobs";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()),
              "jobs 100 101 of an earlier submission are still queued or "
              "running; wait for them (needle status) or scancel them, then "
              "submit again");
  }
  // Waiting on a failed job: they can never start, so they are cancelled.
  WriteFile(fake_ + "/squeue.out",
            "101|PENDING|DependencyNeverSatisfied\n"
            "102_0|PENDING|DependencyNeverSatisfied\n");
  const std::string text = SubmitToSlurm(Config(), Run());
  EXPECT_EQ(ReadFile(fake_ + "/scancel.log"), "101 102\n");
  EXPECT_TRUE(text.starts_with("needle: cancelled jobs 101 102: ")) << text;
  EXPECT_EQ(ReadSlurmJobs(out_)->submissions.size(), 2u);
}

TEST_F(SlurmTest, AFailedSbatchLeavesARecordOfTheJobsBeforeIt) {
  WriteFile(fake_ + "/fail_at", "102\n");
  try {
    SubmitToSlurm(Config(), Run());
    FAIL() << "sbatch failed unnoticed";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()),
              "`sbatch --parsable --array=0-2 --dependency=afterok:101 "
              "--kill-on-invalid-dep=yes " +
                  out_ +
                  "/slurm/finalize.sbatch` failed; the steps before it stay "
                  "submitted");
  }
  const std::optional<SlurmJobs> jobs = ReadSlurmJobs(out_);
  ASSERT_TRUE(jobs.has_value());
  ASSERT_EQ(jobs->submissions.size(), 1u);
  ASSERT_EQ(jobs->submissions[0].size(), 2u);
  EXPECT_EQ(jobs->submissions[0][1].id, "101");
}

TEST_F(SlurmTest, DryRunWritesTheScriptsAndSubmitsNothing) {
  const std::string text = SubmitToSlurm(Config(), Run(/*dry_run=*/true));
  EXPECT_FALSE(fs::exists(fake_ + "/sbatch.log"));
  EXPECT_FALSE(ReadSlurmJobs(out_).has_value());
  for (const char* step :
       {"annotate", "cluster", "finalize", "tiers", "report"}) {
    EXPECT_TRUE(fs::exists(out_ + "/slurm/" + step + ".sbatch")) << step;
  }
  const std::vector<std::string> lines = Lines(text);
  ASSERT_EQ(lines.size(), 6u) << text;
  EXPECT_EQ(lines[1], "annotate=$(sbatch --parsable --array=0-2 " + out_ +
                          "/slurm/annotate.sbatch)");
  EXPECT_EQ(lines[2],
            "cluster=$(sbatch --parsable --dependency=afterok:$annotate "
            "--kill-on-invalid-dep=yes " +
                out_ + "/slurm/cluster.sbatch)");
}

TEST_F(SlurmTest, ScriptsCarryTheResourcesAndExtraFlags) {
  SlurmRun run = Run();
  run.options.partition = "cpu";
  run.options.cpus_per_task = 8;
  run.options.mem = "16G";
  run.options.time = "2:00:00";
  run.options.sbatch_args = "--account=data --qos 'low prio'";
  SubmitToSlurm(Config(), run);
  const std::string script = ReadFile(out_ + "/slurm/finalize.sbatch");
  for (const std::string& line : std::vector<std::string>{
           "#SBATCH --job-name=needle-finalize\n",
           "#SBATCH --output=" + out_ + "/slurm/logs/finalize-%A_%a.out\n",
           "#SBATCH --partition=cpu\n", "#SBATCH --cpus-per-task=8\n",
           "#SBATCH --mem=16G\n", "#SBATCH --time=2:00:00\n",
           "#SBATCH --chdir=" + fs::current_path().string() + "\n"}) {
    EXPECT_NE(script.find(line), std::string::npos) << line;
  }
  EXPECT_NE(
      ReadFile(out_ + "/slurm/cluster.sbatch")
          .find("#SBATCH --output=" + out_ + "/slurm/logs/cluster-%j.out"),
      std::string::npos);
  // The extra flags reach sbatch as a shell splits them.
  EXPECT_TRUE(Submitted()[0].starts_with(
      "--parsable --array=0-2 --account=data --qos low prio "))
      << Submitted()[0];
}

TEST_F(SlurmTest, StatusCountsDoneRunningFailedAndPendingTasks) {
  const RunConfig config = Config();
  SubmitToSlurm(config, Run());  // jobs 100 (annotate) to 104 (report)
  const RunRequest request = RequestFor({SampleDir()}, out_);
  const std::vector<Shard> shards = FindShards(request.inputs);
  const std::vector<size_t> two = {0, 2};
  RunAnnotate(config, request, shards, two);
  WriteFile(fake_ + "/squeue.out",
            "100_1|RUNNING|None\n101|PENDING|Dependency\n"
            "102_0|PENDING|Dependency\n102_1|PENDING|Dependency\n"
            "102_2|PENDING|Dependency\n103|PENDING|Dependency\n"
            "104|PENDING|Dependency\n");
  const SlurmJobs jobs = *ReadSlurmJobs(out_);
  EXPECT_EQ(SlurmStatusText(config, jobs, out_),
            "step       tasks   done  running  failed  pending\n"
            "annotate       3      2        1       0        0\n"
            "cluster        1      0        0       0        1\n"
            "finalize       3      0        0       0        3\n"
            "tiers          1      0        0       0        1\n"
            "report         1      0        0       0        1\n"
            "needle: 2 of 9 tasks done, 1 running, 0 failed, 6 pending\n");

  // Task 1 gave up; its job left the queue and took the chain with it.
  WriteFile(fake_ + "/squeue.out", "");
  WriteFile(out_ + "/slurm/state/annotate.1", "100 failed 3 1\n");
  EXPECT_EQ(SlurmStatusText(config, jobs, out_),
            "step       tasks   done  running  failed  pending\n"
            "annotate       3      2        0       1        0\n"
            "cluster        1      0        0       0        1\n"
            "finalize       3      0        0       0        3\n"
            "tiers          1      0        0       0        1\n"
            "report         1      0        0       0        1\n"
            "failed: annotate task 1 (mixed.jsonl.zst) (job 100_1): exit "
            "status 1 after 3 attempts; log " +
                out_ +
                "/slurm/logs/annotate-100_1.out\n"
                "needle: 6 pending tasks are in no queue: run the same "
                "`needle run --executor slurm` command again to submit them\n"
                "needle: 2 of 9 tasks done, 0 running, 1 failed, 6 pending\n");

  // Killed outright (no TERM trap ran): still failed. Without squeue,
  // the rest cannot be told apart and is pending.
  WriteFile(out_ + "/slurm/state/annotate.1", "100 running 1\n");
  WriteScript(fake_ + "/squeue", "exit 1\n");
  const std::string text = SlurmStatusText(config, jobs, out_);
  EXPECT_NE(text.find("(job 100_1): ended without recording why (killed?)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("needle: squeue did not answer: running and queued "
                      "tasks show as pending\n"),
            std::string::npos)
      << text;
}

class SlurmScriptTest : public SlurmTest {
 protected:
  // The stand-in needle logs its arguments, one a line, and exits with the
  // statuses in $FAKE/statuses, one a call (0 when they run out).
  void SetUp() override {
    SlurmTest::SetUp();
    WriteScript(fake_ + "/needle",
                "printf '%s\\n' \"$@\" >\"$FAKE/args\"\n"
                "n=$(($(cat \"$FAKE/calls\" 2>/dev/null || echo 0) + 1))\n"
                "echo $n >\"$FAKE/calls\"\n"
                "exit $(sed -n \"${n}p\" \"$FAKE/statuses\")\n");
  }

  // `step`'s script as Slurm runs it: with bash, as task `task` of array
  // job 77 (global steps: job 78, no task). Returns its exit status.
  int RunScript(StepKind step, int max_retries, const std::string& statuses,
                const std::vector<size_t>& resumed = {},
                std::optional<double> max_error_rate = std::nullopt) {
    SlurmRun run = Run();
    run.request.max_error_rate = max_error_rate;
    run.config_path = "my configs/it's.toml";
    run.needle_binary = fake_ + "/needle";
    run.options.max_retries = max_retries;
    const std::string script = fake_ + "/step.sbatch";
    WriteFile(script, StepScript(run, step, resumed));
    WriteFile(fake_ + "/statuses", statuses);
    const std::string env = IsPerShard(step)
                                ? "SLURM_ARRAY_JOB_ID=77 SLURM_ARRAY_TASK_ID=1"
                                : "SLURM_JOB_ID=78";
    const int status = std::system((env + " NEEDLE_RETRY_DELAY_S=0 bash " +
                                    script + " >" + fake_ + "/script.log 2>&1")
                                       .c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string State(const std::string& name) const {
    return ReadFile(out_ + "/slurm/state/" + name);
  }
  std::string Calls() const { return ReadFile(fake_ + "/calls"); }
};

TEST_F(SlurmScriptTest, RetriesAFailedTaskThenRecordsItDone) {
  EXPECT_EQ(RunScript(StepKind::kAnnotate, 2, "1\n0\n"), 0);
  EXPECT_EQ(Calls(), "2\n");
  EXPECT_EQ(State("annotate.1"), "77 done 2\n");
  EXPECT_EQ(Lines(ReadFile(fake_ + "/args")),
            (std::vector<std::string>{
                "step", "annotate", "--config", "my configs/it's.toml", "-o",
                out_, "--threads", "1", "--task", "1", SampleDir()}));
  EXPECT_NE(ReadFile(fake_ + "/script.log")
                .find("needle: attempt 1 of 3 failed with status 1; "
                      "retrying in 0 s"),
            std::string::npos);
}

TEST_F(SlurmScriptTest, GivesUpAfterMaxRetriesWithTheTasksStatus) {
  EXPECT_EQ(RunScript(StepKind::kFinalize, 1, "5\n5\n5\n"), 5);
  EXPECT_EQ(Calls(), "2\n");
  EXPECT_EQ(State("finalize.1"), "77 failed 2 5\n");
}

TEST_F(SlurmScriptTest, DoesNotRetryAnErrorRateAboveTheLimit) {
  EXPECT_EQ(RunScript(StepKind::kReport, 2, "3\n", {0, 2}, 0.25), 3);
  EXPECT_EQ(Calls(), "1\n");
  EXPECT_EQ(State("report.0"), "78 failed 1 3\n");
  const std::vector<std::string> args = Lines(ReadFile(fake_ + "/args"));
  EXPECT_EQ(std::vector<std::string>(args.end() - 5, args.end()),
            (std::vector<std::string>{"--resumed", "0,2", "--max-error-rate",
                                      "0.25", SampleDir()}));
}

TEST_F(SlurmScriptTest, RecordsACancelAndDoesNotRetry) {
  // scancel signals the whole job: here the script, from its task.
  WriteScript(fake_ + "/needle", "kill -TERM $PPID\nexit 143\n");
  EXPECT_EQ(RunScript(StepKind::kAnnotate, 2, ""), 143);
  EXPECT_EQ(State("annotate.1"), "77 cancelled 1\n");
}

}  // namespace
}  // namespace needle
