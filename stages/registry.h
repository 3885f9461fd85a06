#pragma once
// The table of stages a config can name, one row per stage (ninja's
// kTools[]). No static self-registration: objects that nothing references
// get dropped from static libraries, and a table is greppable. When a
// stage's behaviour changes, register a new name (doc_length_v2).

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/config.h"
#include "pipeline/options.h"
#include "pipeline/run_config.h"
#include "stages/stage.h"

namespace needle {

struct StageInfo {
  std::string_view name;         // registry name = config section name
  std::string_view description;  // one line, for `needle stages list`
  // Reads [name] from the config and builds the stage; with build false,
  // only reads the options and returns nullptr (`needle config defaults`
  // resolves every stage's options without loading any model).
  std::unique_ptr<Stage> (*make)(ConfigFile& config, const StageInfo& info,
                                 bool build);
};

std::span<const StageInfo> RegisteredStages();
const StageInfo* FindStage(std::string_view name);

// Reads and checks every section the run uses; throws ConfigError at the
// first problem, with file:line:col. With `build_stages` false the stages'
// options are checked but no stage is built (no model is loaded), and
// RunConfig::stages stays empty: for commands that only read a finished
// run, such as `needle tune`.
RunConfig LoadRunConfig(ConfigFile config, bool build_stages = true);

// The commented defaults of every section and every registered stage:
// exactly the contents of configs/default.toml.
std::string DefaultConfigToml();

}  // namespace needle
