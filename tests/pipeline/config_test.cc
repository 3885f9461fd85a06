#include "pipeline/config.h"

#include <gtest/gtest.h>

#include <map>

#include "pipeline/options.h"
#include "tests/test_util.h"

namespace needle {
namespace {

using testing::MakeTempDir;
using testing::WriteFile;

struct ExampleOptions {
  uint64_t min_words = 50;
  double max_ratio = 0.1;
  std::string mode = "fast";
  bool enabled = true;
  std::vector<std::string> languages = {"en"};

  void Visit(ConfigSection& s) {
    s.Field("min_words", &min_words, "Fewest words.", 1, 1000);
    s.Field("max_ratio", &max_ratio, "Largest ratio.", 0.0, 1.0);
    s.Choice("mode", &mode, {"fast", "exact"}, "How to count.");
    s.Field("enabled", &enabled, "Whether to run.");
    s.Field("languages", &languages, "Allowed languages.");
  }
};

// Writes `toml` to a file named run.toml and returns its path.
std::string ConfigPath(const std::string& toml) {
  std::string path = MakeTempDir() + "/run.toml";
  WriteFile(path, toml);
  return path;
}

// The ConfigError message from reading [example] of `toml`, with the
// temporary directory cut off so messages can be compared verbatim.
std::string ErrorFor(const std::string& toml) {
  const std::string path = ConfigPath(toml);
  try {
    ConfigFile file = ConfigFile::Load(path);
    ExampleOptions options;
    file.Read("example", "An example section", &options);
    file.CheckNoUnknownSections({}, {"example"});
  } catch (const ConfigError& error) {
    std::string message = error.what();
    const std::string dir = path.substr(0, path.rfind('/') + 1);
    if (message.starts_with(dir)) message.erase(0, dir.size());
    return message;
  }
  return "no error";
}

TEST(ConfigTest, ReadsValuesAndKeepsDefaultsForAbsentKeys) {
  ConfigFile file =
      ConfigFile::Load(ConfigPath("[example]\nmin_words = 7\nmax_ratio = 1\n"
                                  "languages = [\"de\", \"fr\"]\n"));
  ExampleOptions options;
  file.Read("example", "An example section", &options);
  EXPECT_EQ(options.min_words, 7u);
  EXPECT_EQ(options.max_ratio, 1.0);  // an integer is accepted as a number
  EXPECT_EQ(options.mode, "fast");
  EXPECT_EQ(options.languages, (std::vector<std::string>{"de", "fr"}));
}

TEST(ConfigTest, ResolvedConfigListsEveryKeyWithItsHelp) {
  ConfigFile file = ConfigFile::Load(ConfigPath("[example]\nmin_words = 7\n"));
  ExampleOptions options;
  file.Read("example", "An example section", &options);
  EXPECT_EQ(file.resolved_toml(),
            "# An example section\n"
            "[example]\n"
            "# Fewest words.\nmin_words = 7\n"
            "# Largest ratio.\nmax_ratio = 0.1\n"
            "# How to count. One of: fast, exact.\nmode = \"fast\"\n"
            "# Whether to run.\nenabled = true\n"
            "# Allowed languages.\nlanguages = [\"en\"]\n");
}

TEST(ConfigTest, WrongTypeNamesPlaceAndExpectedType) {
  EXPECT_EQ(ErrorFor("[example]\nmin_words = \"fifty\"\n"),
            "run.toml:2:13: expected an integer from 1 to 1000 for "
            "min_words, got string \"fifty\"");
}

TEST(ConfigTest, OutOfRangeValueIsRejected) {
  EXPECT_EQ(ErrorFor("[example]\n\nmax_ratio = 1.5\n"),
            "run.toml:3:13: expected a number from 0 to 1 for max_ratio, "
            "got float 1.5");
}

TEST(ConfigTest, ChoiceOutsideItsListIsRejected) {
  EXPECT_EQ(ErrorFor("[example]\nmode = \"slow\"\n"),
            "run.toml:2:8: expected one of fast, exact for mode, got string "
            "\"slow\"");
}

TEST(ConfigTest, NonStringArrayElementPointsAtTheElement) {
  EXPECT_EQ(ErrorFor("[example]\nlanguages = [\"en\", 3]\n"),
            "run.toml:2:20: expected an array of strings for languages, got "
            "integer 3");
}

TEST(ConfigTest, UnknownKeySuggestsTheClosestOne) {
  EXPECT_EQ(ErrorFor("[example]\nmin_word = 3\n"),
            "run.toml:2:1: unknown key 'min_word' in [example]; did you mean "
            "'min_words'?");
}

TEST(ConfigTest, UnknownKeyFarFromAllListsTheKeys) {
  EXPECT_EQ(ErrorFor("[example]\ncolour = 3\n"),
            "run.toml:2:1: unknown key 'colour' in [example]; expected one "
            "of: min_words, max_ratio, mode, enabled, languages");
}

TEST(ConfigTest, UnknownSectionIsRejected) {
  EXPECT_EQ(ErrorFor("[exampel]\nmin_words = 3\n"),
            "run.toml:1:2: unknown section [exampel]; did you mean "
            "[example]?");
}

TEST(ConfigTest, SyntaxErrorCarriesTomlPosition) {
  const std::string error = ErrorFor("[example]\nmin_words = = 3\n");
  EXPECT_TRUE(error.starts_with("run.toml:2:")) << error;
}

TEST(ConfigTest, MissingFileIsAnError) {
  EXPECT_THROW(ConfigFile::Load("/nonexistent/run.toml"), ConfigError);
}

TEST(ConfigTest, HashChangesWithAnyResolvedValue) {
  auto hash_of = [](const std::string& toml) {
    ConfigFile file = ConfigFile::Load(ConfigPath(toml));
    ExampleOptions options;
    file.Read("example", "An example section", &options);
    return file.hash();
  };
  EXPECT_EQ(hash_of(""), hash_of("[example]\nmin_words = 50\n"));
  EXPECT_NE(hash_of(""), hash_of("[example]\nmin_words = 51\n"));
}

TEST(ConfigTest, ClosestNameStaysWithinThreeEdits) {
  EXPECT_EQ(ClosestName("gopher_qualty", {"gopher_quality", "doc_length"}),
            "gopher_quality");
  EXPECT_EQ(ClosestName("tokens", {"gopher_quality", "doc_length"}), "");
}

struct ScoreOptions {
  std::map<std::string, double> min_score_by_lang = {{"en", 0.5}};

  void Visit(ConfigSection& s) {
    s.Field("min_score_by_lang", &min_score_by_lang, "Per language.", 0.0, 1.0);
  }
};

// Reads [scores] of `toml`: the options, or the error without its directory.
std::pair<ScoreOptions, std::string> ReadScores(const std::string& toml) {
  const std::string path = ConfigPath(toml);
  ScoreOptions options;
  try {
    ConfigFile file = ConfigFile::Load(path);
    file.Read("scores", "Scores", &options);
    return {options, file.resolved_toml()};
  } catch (const ConfigError& error) {
    std::string message = error.what();
    return {options, message.substr(path.rfind('/') + 1)};
  }
}

TEST(ConfigTest, InlineTableOfNumbersReplacesTheDefault) {
  const auto [options, resolved] =
      ReadScores("[scores]\nmin_score_by_lang = { de = 0.5, fr = 1 }\n");
  EXPECT_EQ(options.min_score_by_lang,
            (std::map<std::string, double>{{"de", 0.5}, {"fr", 1.0}}));
  EXPECT_EQ(resolved,
            "# Scores\n[scores]\n# Per language.\n"
            "min_score_by_lang = { \"de\" = 0.5, \"fr\" = 1.0 }\n");
  EXPECT_EQ(ReadScores("").second,
            "# Scores\n[scores]\n# Per language.\n"
            "min_score_by_lang = { \"en\" = 0.5 }\n");
  EXPECT_EQ(ReadScores("[scores]\nmin_score_by_lang = {}\n").second,
            "# Scores\n[scores]\n# Per language.\nmin_score_by_lang = {}\n");
}

TEST(ConfigTest, InlineTableValueOutOfRangePointsAtTheValue) {
  EXPECT_EQ(
      ReadScores("[scores]\nmin_score_by_lang = { de = 0.5, fr = 2 }\n").second,
      "run.toml:2:38: expected a number from 0 to 1 for "
      "min_score_by_lang.fr, got integer 2");
  EXPECT_EQ(
      ReadScores("[scores]\nmin_score_by_lang = { de = \"high\" }\n").second,
      "run.toml:2:28: expected a number from 0 to 1 for "
      "min_score_by_lang.de, got string \"high\"");
}

TEST(ConfigTest, NonTableForATableOfNumbersIsRejected) {
  EXPECT_EQ(ReadScores("[scores]\nmin_score_by_lang = [\"de\"]\n").second,
            "run.toml:2:21: expected a table of numbers, { name = 0.5 } for "
            "min_score_by_lang, got an array");
}

}  // namespace
}  // namespace needle
