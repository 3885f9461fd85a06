#pragma once
// Everything a run is configured with, resolved and checked
// (stages/registry.h's LoadRunConfig builds it from a TOML file).

#include <memory>
#include <string>
#include <vector>

#include "pipeline/minhash.h"
#include "pipeline/options.h"
#include "stages/stage.h"

namespace needle {

struct RunConfig {
  InputOptions input;
  OutputOptions output;
  PipelineOptions pipeline;
  std::vector<std::unique_ptr<Stage>> stages;  // in pipeline order
  DedupOptions dedup;
  std::unique_ptr<const MinHasher> hasher;  // set when dedup.enabled
  std::string path;
  std::string resolved_toml;  // what `needle config show` prints
  std::string hash;           // of resolved_toml; guards resume
};

}  // namespace needle
