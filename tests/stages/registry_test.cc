#include "stages/registry.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace needle {
namespace {

using testing::MakeTempDir;
using testing::ReadFile;
using testing::WriteFile;

RunConfig LoadToml(const std::string& toml, std::string* path_out = nullptr) {
  const std::string path = MakeTempDir() + "/run.toml";
  WriteFile(path, toml);
  if (path_out) *path_out = path;
  return LoadRunConfig(ConfigFile::Load(path));
}

std::string ErrorFor(const std::string& toml) {
  std::string path;
  try {
    LoadToml(toml, &path);
  } catch (const ConfigError& error) {
    std::string message = error.what();
    const std::string dir = path.substr(0, path.rfind('/') + 1);
    if (message.starts_with(dir)) message.erase(0, dir.size());
    return message;
  }
  return "no error";
}

TEST(RegistryTest, DefaultTomlInConfigsIsTheGeneratedDefaults) {
  EXPECT_EQ(ReadFile(std::string(NEEDLE_SOURCE_DIR) + "/configs/default.toml"),
            DefaultConfigToml())
      << "regenerate with: build/tools/needle config defaults > "
         "configs/default.toml";
}

TEST(RegistryTest, EveryShippedConfigLoads) {
  for (const char* name : {"default.toml", "sample.toml"}) {
    SCOPED_TRACE(name);
    EXPECT_NO_THROW(LoadRunConfig(
        ConfigFile::Load(std::string(NEEDLE_SOURCE_DIR) + "/configs/" + name)));
  }
}

TEST(RegistryTest, BuildsTheListedStagesInOrderWithTheirOptions) {
  const RunConfig config = LoadToml(
      "[pipeline]\nstages = [\"doc_length\"]\n"
      "[doc_length]\nmin_chars = 10\n");
  ASSERT_EQ(config.stages.size(), 1u);
  EXPECT_EQ(config.stages[0]->name(), "doc_length");
  EXPECT_NE(config.resolved_toml.find("min_chars = 10\n"), std::string::npos);
}

TEST(RegistryTest, UnknownStageSuggestsTheClosestName) {
  EXPECT_EQ(ErrorFor("[pipeline]\nstages = [\"doc_lenght\"]\n"),
            "run.toml:2:11: unknown stage 'doc_lenght'; did you mean "
            "'doc_length'? (see `needle stages list`)");
}

TEST(RegistryTest, StageListedTwiceIsAnError) {
  EXPECT_EQ(ErrorFor("[pipeline]\nstages = [\"doc_length\", \"doc_length\"]\n"),
            "run.toml:2:25: stage 'doc_length' is listed twice");
}

TEST(RegistryTest, WrongTypeInAStageSectionNamesItsPlace) {
  EXPECT_EQ(ErrorFor("[doc_length]\nmin_chars = \"fifty\"\n"),
            "run.toml:2:13: expected a non-negative integer for min_chars, "
            "got string \"fifty\"");
}

TEST(RegistryTest, GzipLevelAboveNineIsRejected) {
  EXPECT_EQ(ErrorFor("[output]\ncodec = \"gzip\"\nlevel = 12\n"),
            "run.toml:3:9: expected an integer from 1 to 9 for level with "
            "codec gzip, got 12");
}

TEST(RegistryTest, SectionOfAnUnlistedStageIsAllowed) {
  EXPECT_NO_THROW(LoadToml("[pipeline]\nstages = []\n[doc_length]\n"));
}

TEST(RegistryTest, UnknownSectionIsAnError) {
  EXPECT_EQ(ErrorFor("[inputs]\n"),
            "run.toml:1:2: unknown section [inputs]; did you mean [input]?");
}

TEST(RegistryTest, ResolvedConfigHashIgnoresFormattingButNotValues) {
  EXPECT_EQ(LoadToml("").hash, LoadToml("# comment\n[input]\n").hash);
  EXPECT_NE(LoadToml("").hash,
            LoadToml("[input]\ntext_field = \"content\"\n").hash);
}

}  // namespace
}  // namespace needle
