#pragma once
// Runs the configured chain of stages over one batch.
//
// Around each stage it counts documents in and out, rejects by reason and
// thread CPU time, into the batch's own counters. An exception from a stage
// must not leave the node (that would cancel the whole graph): the runner
// undoes the stage's partial work on the batch, re-runs it document by
// document, and quarantines each document that still throws as stage_error,
// with the exception's message.

#include <memory>
#include <span>

#include "pipeline/batch.h"
#include "stages/stage.h"

namespace needle {

void RunStages(std::span<const std::unique_ptr<Stage>> stages, Batch* batch);

}  // namespace needle
