// `needle quality train` as a user runs it: what it prints, the model it
// writes, and that model in a `needle run`.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "tests/test_util.h"
#include "tests/tools/run_needle.h"

namespace needle {
namespace {

using testing::DataPath;
using testing::MakeTempDir;
using testing::NeedleResult;
using testing::ReadFile;
using testing::RunNeedleLine;
using testing::WriteFile;

// Hyper-parameters that train on the 120 fixture documents in a blink.
std::string SmallConfig() {
  std::string path = MakeTempDir() + "/train.toml";
  WriteFile(path,
            "[quality_train]\ndim = 16\nbucket = 20000\nepoch = 25\n"
            "lr = 0.5\nholdout_fraction = 0.25\n");
  return path;
}

std::string TrainArgs(const std::string& model) {
  return "quality train --positive " + DataPath("quality/positive.jsonl") +
         " --negative " + DataPath("quality/negative.jsonl") + " -o " + model +
         " --config " + SmallConfig();
}

TEST(QualityTrainCommandTest, PrintsCountsAndHeldOutMetricsThenWritesTheModel) {
  const std::string model = MakeTempDir() + "/models/q.bin";
  const NeedleResult result = RunNeedleLine(TrainArgs(model));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  const std::regex expected(
      "needle: 60 positive and 60 negative documents \\(0 lines skipped, 0 "
      "without words\\)\n"
      "needle: trained on 90 examples in [0-9.]+ s \\(fastText softmax: dim "
      "16, word_ngrams 2, epoch 25, lr 0.5, 1 thread, seed 1\\)\n"
      "needle: held out 30 \\(15 positive, 15 negative\\): precision "
      "([0-9.]+), recall ([0-9.]+), ROC AUC ([0-9.]+)\n"
      "needle: model written to " +
      model + "\n");
  std::smatch metrics;
  ASSERT_TRUE(std::regex_match(result.out, metrics, expected)) << result.out;
  const double precision = std::stod(metrics[1]);
  const double recall = std::stod(metrics[2]);
  const double auc = std::stod(metrics[3]);
  // Brown against spam mail is easy: far above chance (0.5).
  EXPECT_GT(auc, 0.9);
  EXPECT_LE(auc, 1.0);
  EXPECT_GT(precision, 0.7);
  EXPECT_GT(recall, 0.7);
  EXPECT_TRUE(std::filesystem::exists(model));  // parent directory made
}

TEST(QualityTrainCommandTest, TheTrainedModelScoresAndRejectsInARun) {
  const std::string dir = MakeTempDir();
  ASSERT_EQ(RunNeedleLine(TrainArgs(dir + "/q.bin")).exit_code, 0);
  WriteFile(dir + "/run.toml",
            "[pipeline]\nstages = [\"quality\"]\n"
            "[quality]\nmodel_path = \"" +
                dir + "/q.bin\"\nmin_score = 0.5\n");
  const NeedleResult result =
      RunNeedleLine("run -q -c " + dir + "/run.toml -o " + dir + "/out " +
                    DataPath("quality/negative.jsonl"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string summary = ReadFile(dir + "/out/run.json");
  // Most of the spam it was trained to reject is rejected.
  const std::regex rejected("\"quality_low_score\": ?([0-9]+)");
  std::smatch count;
  ASSERT_TRUE(std::regex_search(summary, count, rejected)) << summary;
  EXPECT_GE(std::stoi(count[1]), 50);
}

TEST(QualityTrainCommandTest, MissingInputIsAnErrorNamingIt) {
  const std::string model = MakeTempDir() + "/q.bin";
  const NeedleResult result = RunNeedleLine(
      "quality train --positive /nonexistent/hq.jsonl --negative " +
      DataPath("quality/negative.jsonl") + " -o " + model);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err,
            "needle: positive documents: /nonexistent/hq.jsonl: no such "
            "file\n");
  EXPECT_FALSE(std::filesystem::exists(model));
}

}  // namespace
}  // namespace needle
