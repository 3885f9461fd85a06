#include "stages/quality.h"

#include <fasttext/fasttext.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>

#include "stages/fasttext_classifier.h"
#include "stages/quality_train.h"
#include "stages/registry.h"
#include "tests/test_util.h"

namespace needle {
namespace {

using testing::DataPath;
using testing::Lines;
using testing::MakeTempDir;
using testing::ReadFile;
using testing::WriteFile;

// Small enough to train in well under a second on the fixtures: a few
// thousand buckets and 16 dimensions, more epochs for few examples.
QualityTrainOptions SmallOptions() {
  QualityTrainOptions options;
  options.dim = 16;
  options.bucket = 20'000;
  options.epoch = 25;
  options.lr = 0.5;
  return options;
}

QualityTrainRequest FixtureRequest(const std::string& output) {
  QualityTrainRequest request;
  request.positive = {DataPath("quality/positive.jsonl")};
  request.negative = {DataPath("quality/negative.jsonl")};
  request.output = output;
  return request;
}

// One model per test binary, trained from the fixtures: 60 Brown slices
// against 60 spam mail bodies.
const std::string& FixtureModel() {
  static const auto* path = [] {
    auto* model = new std::string(MakeTempDir() + "/quality.bin");
    TrainQualityModel(SmallOptions(), FixtureRequest(*model));
    return model;
  }();
  return *path;
}

std::vector<std::string> FixtureTexts() {
  std::vector<std::string> texts;
  for (const char* side :
       {"quality/positive.jsonl", "quality/negative.jsonl"}) {
    for (const std::string& line : Lines(ReadFile(DataPath(side)))) {
      simdjson::dom::parser parser;
      std::string_view text;
      if (!parser.parse(line)["text"].get(text)) texts.emplace_back(text);
    }
  }
  return texts;
}

// Texts that must not trip the stage: no words, one enormous line,
// scripts without spaces, fastText's separators and a literal "</s>".
std::vector<std::string> OddTexts() {
  return {
      " ",
      "\n\n\t \r\n",
      std::string(200'000, 'a') + " " + std::string(100'000, 'b'),
      "日本語のテキストには単語の間に空白がありません。",
      "Всеобщая декларация прав человека",
      "émoji 😀😀 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
      "tab\tvt\vff\fcr\rend",
      "one </s> two",
      "__label__hq is a word here",
  };
}

Quality::Options OptionsFor(const std::string& model) {
  Quality::Options options;
  options.model_path = model;
  return options;
}

// Documents viewing `texts`, which must outlive them.
std::vector<Document> Docs(const std::vector<std::string>& texts) {
  std::vector<Document> docs(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) docs[i].text = texts[i];
  return docs;
}

double Score(const Document& doc) {
  const double* score = doc.FindSignal<double>("quality_score");
  return score != nullptr ? *score : -1;
}

double ScoreOf(const std::string& text, uint64_t max_chars = 0) {
  Quality::Options options = OptionsFor(FixtureModel());
  options.max_chars = max_chars;
  const std::vector<std::string> texts = {text};
  std::vector<Document> docs = Docs(texts);
  Quality(options).Process(docs);
  return Score(docs[0]);
}

int Shell(const std::string& command) { return std::system(command.c_str()); }

// fastText's CLI prints probabilities with the stream's default 6
// significant digits.
std::string AsCliPrints(double probability) {
  std::ostringstream out;
  out << static_cast<float>(probability);
  return out.str();
}

// The acceptance test: on every fixture text and the odd ones, whole and
// cut to a prefix, quality_score is the probability of __label__hq that
// `fasttext predict-prob MODEL - 2` prints for the prepared line.
TEST(QualityTest, ScoreIsWhatTheFastTextCliPrintsForThePreparedLine) {
  ASSERT_EQ(Shell("command -v fasttext >/dev/null"), 0)
      << "the fastText CLI is missing; scripts/setup installs it";
  std::vector<std::string> texts = FixtureTexts();
  for (std::string& text : OddTexts()) {
    // The CLI scores a wordless line from "</s>" alone, where the stage
    // gives 0 (tested below); a literal "</s>" would end the CLI's line.
    if (text.find_first_not_of(" \n\t\r") != std::string::npos &&
        text.find("</s>") == std::string::npos) {
      texts.push_back(std::move(text));
    }
  }
  for (const uint64_t max_chars : {uint64_t{0}, uint64_t{50}}) {
    SCOPED_TRACE("max_chars = " + std::to_string(max_chars));
    const std::string dir = MakeTempDir();
    std::string lines;
    for (const std::string& text : texts) {
      lines += FastTextLine(text, max_chars) + "\n";
    }
    WriteFile(dir + "/prepared.txt", lines);
    ASSERT_EQ(Shell(fmt::format("fasttext predict-prob {} - 2 <{}/prepared.txt "
                                ">{}/cli.out",
                                FixtureModel(), dir, dir)),
              0);
    const std::vector<std::string> cli = Lines(ReadFile(dir + "/cli.out"));
    ASSERT_EQ(cli.size(), texts.size());

    Quality::Options options = OptionsFor(FixtureModel());
    options.max_chars = max_chars;
    std::vector<Document> docs = Docs(texts);
    Quality(options).Process(docs);
    for (size_t i = 0; i < docs.size(); ++i) {
      std::istringstream line(cli[i]);
      std::string label;
      std::string probability;
      std::string hq;
      while (line >> label >> probability) {
        if (label == "__label__hq") hq = probability;
      }
      ASSERT_FALSE(hq.empty()) << cli[i];
      EXPECT_EQ(AsCliPrints(Score(docs[i])), hq) << "text " << i;
    }
  }
}

// Bit for bit against libfasttext's own predictLine() on the same line.
TEST(QualityTest, ScoreIsLibFastTextsProbabilityBitForBit) {
  fasttext::FastText reference;
  reference.loadModel(FixtureModel());
  std::vector<std::string> texts = FixtureTexts();
  texts.emplace_back(OddTexts()[2]);
  texts.emplace_back(OddTexts()[3]);
  std::vector<Document> docs = Docs(texts);
  Quality(OptionsFor(FixtureModel())).Process(docs);
  std::vector<std::pair<fasttext::real, std::string>> predictions;
  for (size_t i = 0; i < docs.size(); ++i) {
    std::istringstream line(FastTextLine(texts[i], 0) + "\n");
    ASSERT_TRUE(reference.predictLine(line, predictions, 2, 0.0));
    double expected = -1;
    for (const auto& [probability, label] : predictions) {
      if (label == "__label__hq") expected = probability;
    }
    EXPECT_EQ(Score(docs[i]), expected) << "text " << i;
  }
}

TEST(QualityTest, SeparatesTheFixturesProseFromTheirSpam) {
  const std::vector<std::string> texts = FixtureTexts();
  ASSERT_EQ(texts.size(), 120u);  // 60 Brown slices, then 60 spam bodies
  size_t prose_above_half = 0;
  size_t spam_below_half = 0;
  for (size_t i = 0; i < 60; ++i) prose_above_half += ScoreOf(texts[i]) > 0.5;
  for (size_t i = 60; i < 120; ++i) spam_below_half += ScoreOf(texts[i]) < 0.5;
  // Trained on these very texts: nearly all on their side.
  EXPECT_GE(prose_above_half, 55u);
  EXPECT_GE(spam_below_half, 55u);
}

TEST(QualityTest, RejectsBelowMinScoreAndKeepsAtIt) {
  const std::string text = FixtureTexts()[0];
  const double score = ScoreOf(text);
  ASSERT_GT(score, 0);
  Quality::Options options = OptionsFor(FixtureModel());
  for (const auto& [min_score, want] :
       {std::pair{score, Reason::kOk},
        std::pair{std::nextafter(score, 1.0), Reason::kQualityLowScore},
        std::pair{0.0, Reason::kOk}}) {
    options.min_score = min_score;
    const std::vector<std::string> texts = {text};
    std::vector<Document> docs = Docs(texts);
    Quality(options).Process(docs);
    EXPECT_EQ(docs[0].reason, want) << "min_score " << min_score;
    EXPECT_EQ(docs[0].reject_stage, want == Reason::kOk ? "" : "quality");
    EXPECT_EQ(Score(docs[0]), score);  // recorded either way
  }
}

TEST(QualityTest, TextWithoutWordsScoresZero) {
  Quality::Options options = OptionsFor(FixtureModel());
  options.min_score = 0.01;
  const std::vector<std::string> texts = {" ", "\n\n\t \r\n",
                                          std::string(3, '\0')};
  std::vector<Document> docs = Docs(texts);
  Quality(options).Process(docs);
  for (const Document& doc : docs) {
    EXPECT_EQ(Score(doc), 0.0);
    EXPECT_EQ(doc.reason, Reason::kQualityLowScore);
  }
  // Nor is a prefix of spaces any text.
  EXPECT_EQ(ScoreOf("     " + FixtureTexts()[0], 3), 0.0);
}

TEST(QualityTest, OddTextsGetAProbability) {
  const std::vector<std::string> texts = OddTexts();
  std::vector<Document> docs = Docs(texts);
  Quality(OptionsFor(FixtureModel())).Process(docs);
  for (size_t i = 2; i < docs.size(); ++i) {
    EXPECT_GT(Score(docs[i]), 0.0) << i;
    EXPECT_LE(Score(docs[i]), 1.0 + 1e-5) << i;  // fastText adds 1e-5
    EXPECT_TRUE(docs[i].ok());
  }
}

TEST(QualityTest, MaxCharsGivesTheModelOnlyThePrefix) {
  const std::string prose = FixtureTexts()[0];
  const std::string spam = FixtureTexts()[60];
  EXPECT_EQ(ScoreOf(prose + "\n" + spam, prose.size()), ScoreOf(prose));
  EXPECT_NE(ScoreOf(prose + "\n" + spam), ScoreOf(prose));
}

TEST(QualityTest, SkipsDocumentsAlreadyRejected) {
  const std::vector<std::string> texts = {FixtureTexts()[0]};
  std::vector<Document> docs = Docs(texts);
  docs[0].reason = Reason::kTooShort;
  Quality(OptionsFor(FixtureModel())).Process(docs);
  EXPECT_TRUE(docs[0].signals.empty());
  EXPECT_EQ(docs[0].reason, Reason::kTooShort);
}

std::string ConstructionError(const Quality::Options& options) {
  try {
    Quality stage(options);
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "no error";
}

TEST(QualityTest, MissingModelNamesThePathAndTheFix) {
  EXPECT_EQ(ConstructionError(OptionsFor("/nonexistent/quality.bin")),
            "quality: cannot load the model /nonexistent/quality.bin: cannot "
            "open (run scripts/setup to train models/quality.bin, or set "
            "[quality] model_path)");
}

TEST(QualityTest, LabelTheModelDoesNotHaveIsAnError) {
  Quality::Options options = OptionsFor(FixtureModel());
  options.label = "hq";
  EXPECT_EQ(ConstructionError(options),
            "quality: label 'hq' is not a label of " + FixtureModel() +
                " (its labels: '__label__hq', '__label__lq'); set [quality] "
                "label");
  options.label = "__label__lq";  // any label of the model may be scored
  EXPECT_EQ(ConstructionError(options), "no error");
}

TEST(QualityTest, IsBuiltFromTheQualitySectionOfAConfig) {
  const std::string path = MakeTempDir() + "/run.toml";
  WriteFile(path,
            "[pipeline]\nstages = [\"quality\"]\n[quality]\nmodel_path = \"" +
                FixtureModel() +
                "\"\nmin_score = 0.5\n[quality_train]\ndim = 8\n");
  const RunConfig config = LoadRunConfig(ConfigFile::Load(path));
  ASSERT_EQ(config.stages.size(), 1u);
  EXPECT_EQ(config.stages[0]->name(), "quality");
}

TEST(QualityTest, DefaultConfigListsBothSections) {
  const std::string defaults = DefaultConfigToml();
  EXPECT_NE(defaults.find("[quality]\n"), std::string::npos);
  EXPECT_NE(defaults.find("model_path = \"models/quality.bin\"\n"),
            std::string::npos);
  EXPECT_NE(defaults.find("[quality_train]\n"), std::string::npos);
  EXPECT_NE(defaults.find("word_ngrams = 2\n"), std::string::npos);
}

// ------------------------------------------------------------- training

// The definition itself: over every (positive, negative) pair, 1 when the
// positive scores higher, 1/2 on a tie.
double PairwiseAuc(const std::vector<double>& positives,
                   const std::vector<double>& negatives) {
  double wins = 0;
  for (const double p : positives) {
    for (const double n : negatives) wins += p > n ? 1.0 : p == n ? 0.5 : 0.0;
  }
  return wins / static_cast<double>(positives.size() * negatives.size());
}

TEST(RocAucTest, HandWorkedCases) {
  EXPECT_EQ(RocAuc(std::vector{0.9, 0.8}, std::vector{0.1, 0.2}), 1.0);
  EXPECT_EQ(RocAuc(std::vector{0.1, 0.2}, std::vector{0.9, 0.8}), 0.0);
  EXPECT_EQ(RocAuc(std::vector{0.5, 0.5}, std::vector{0.5}), 0.5);
  // Pairs: 0.8>0.5, 0.8>0.2, 0.5=0.5 (one half), 0.5>0.2: 3.5 of 4.
  EXPECT_EQ(RocAuc(std::vector{0.8, 0.5}, std::vector{0.5, 0.2}), 0.875);
  EXPECT_TRUE(std::isnan(RocAuc(std::vector<double>{}, std::vector{0.5})));
}

TEST(RocAucTest, AgreesWithThePairwiseDefinitionOnRandomScoresWithTies) {
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    // Scores from a few values, so that ties are common, within and across.
    std::uniform_int_distribution<int> value(0, round % 5 + 1);
    std::uniform_int_distribution<int> size(1, 40);
    std::vector<double> positives(size(rng));
    std::vector<double> negatives(size(rng));
    for (double& s : positives) s = value(rng) / 4.0;
    for (double& s : negatives) s = value(rng) / 4.0;
    EXPECT_NEAR(RocAuc(positives, negatives), PairwiseAuc(positives, negatives),
                1e-12)
        << "round " << round;
  }
}

TEST(QualityTrainTest, HoldsOutEachClassAndMeasuresIt) {
  const std::string dir = MakeTempDir();
  const QualityTrainResult result =
      TrainQualityModel(SmallOptions(), FixtureRequest(dir + "/m.bin"));
  EXPECT_EQ(result.positive_docs, 60u);
  EXPECT_EQ(result.negative_docs, 60u);
  EXPECT_EQ(result.skipped_lines, 0u);
  EXPECT_EQ(result.train_examples, 108u);  // 10% of 60, twice, held out
  ASSERT_TRUE(result.held_out.has_value());
  EXPECT_EQ(result.held_out->positives, 6u);
  EXPECT_EQ(result.held_out->negatives, 6u);
  EXPECT_GT(result.held_out->roc_auc, 0.8);
  EXPECT_TRUE(std::filesystem::exists(dir + "/m.bin"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/m.bin.tmp"));
}

TEST(QualityTrainTest, OneThreadAndOneSeedGiveTheSameModelByteForByte) {
  const std::string dir = MakeTempDir();
  QualityTrainOptions options = SmallOptions();
  TrainQualityModel(options, FixtureRequest(dir + "/a.bin"));
  TrainQualityModel(options, FixtureRequest(dir + "/b.bin"));
  options.seed = 2;
  TrainQualityModel(options, FixtureRequest(dir + "/c.bin"));
  EXPECT_EQ(ReadFile(dir + "/a.bin"), ReadFile(dir + "/b.bin"));
  EXPECT_NE(ReadFile(dir + "/a.bin"), ReadFile(dir + "/c.bin"));
}

TEST(QualityTrainTest, ReadsCompressedShardsAndSkipsLinesWithoutText) {
  const std::string dir = MakeTempDir();
  const std::string negatives = ReadFile(DataPath("quality/negative.jsonl"));
  WriteFile(dir + "/neg/a.jsonl",
            "{\"content\":\"x\"}\nnot json\n{\"text\":\"  \"}\n\n" + negatives);
  ASSERT_EQ(
      Shell(fmt::format("gzip -c {}/neg/a.jsonl >{}/neg/b.jsonl.gz", dir, dir)),
      0);
  QualityTrainRequest request = FixtureRequest(dir + "/m.bin");
  request.negative = {dir + "/neg"};  // a directory: both files
  QualityTrainOptions options = SmallOptions();
  options.holdout_fraction = 0;
  const QualityTrainResult result = TrainQualityModel(options, request);
  EXPECT_EQ(result.negative_docs, 120u);
  EXPECT_EQ(result.skipped_lines, 4u);  // two a file; blank lines are not
  EXPECT_EQ(result.empty_docs, 2u);
  EXPECT_EQ(result.train_examples, 180u);
  EXPECT_FALSE(result.held_out.has_value());
}

std::string TrainingError(const QualityTrainOptions& options,
                          const QualityTrainRequest& request) {
  try {
    TrainQualityModel(options, request);
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "no error";
}

TEST(QualityTrainTest, ASideWithoutTextIsAnError) {
  QualityTrainOptions options = SmallOptions();
  options.text_field = "body";
  EXPECT_EQ(TrainingError(options, FixtureRequest(MakeTempDir() + "/m.bin")),
            "no positive document with text in 'body' (is [quality_train] "
            "text_field right?)");
}

}  // namespace
}  // namespace needle
