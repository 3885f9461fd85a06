// The graph in one place, read top to bottom:
//
//   read (serial source, ~batch_bytes of whole lines per batch, seq-numbered)
//    -> limit (at most 2 x threads batches in flight: bounded memory)
//    -> parse (parallel) -> stages (parallel)
//    -> dedup keys (parallel; with [dedup] enabled) -> encode (parallel)
//    -> order (sequencer on seq: output order = input order)
//    -> write (serial) -> back to limit's decrement
//
// Every batch flows all the way, even an empty one, so the sequencer never
// waits for a seq that does not come.
#include "pipeline/graph.h"

#include <fmt/format.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/flow_graph.h>
#include <simdjson.h>

#include <memory>

#include "pipeline/batch.h"
#include "pipeline/dedup_step.h"
#include "pipeline/encoder.h"
#include "pipeline/parser.h"
#include "pipeline/shard_reader.h"
#include "pipeline/shard_writer.h"
#include "pipeline/stage_runner.h"

namespace needle {

namespace flow = oneapi::tbb::flow;

void RunGraph(const GraphPlan& plan) {
  const RunConfig& config = *plan.config;
  const std::span<const Shard> shards = plan.shards;
  if (shards.empty()) return;
  const EncodeOptions encode_options = MakeEncodeOptions(config);

  // Source state: touched only by the (serial) input node.
  size_t next_shard = 0;
  uint64_t next_seq = 0;
  std::unique_ptr<ShardReader> reader;
  oneapi::tbb::enumerable_thread_specific<simdjson::dom::parser> parsers;
  ShardWriter writer(plan, encode_options.codec, encode_options.level);

  flow::graph graph;

  flow::input_node<BatchPtr> read(
      graph, [&](oneapi::tbb::flow_control& control) -> BatchPtr {
        if (next_shard == shards.size()) {
          control.stop();
          return nullptr;
        }
        if (!reader) {
          reader =
              std::make_unique<ShardReader>(shards[next_shard], config.input);
        }
        auto batch = std::make_shared<Batch>();
        batch->seq = next_seq++;
        batch->shard_index = next_shard;
        if (!reader->Next(batch.get())) {
          batch->last_in_shard = true;
          batch->shard_xxh3 = reader->raw_xxh3();
          batch->shard_codec = reader->codec();
          reader.reset();
          ++next_shard;
        }
        return batch;
      });

  flow::limiter_node<BatchPtr> limit(graph,
                                     2 * static_cast<size_t>(plan.threads));

  flow::function_node<BatchPtr, BatchPtr> parse(
      graph, flow::unlimited, [&](BatchPtr batch) {
        ParseBatch(config.input, shards[batch->shard_index].name,
                   parsers.local(), batch.get());
        return batch;
      });

  flow::function_node<BatchPtr, BatchPtr> stages(
      graph, flow::unlimited, [&](BatchPtr batch) {
        RunStages(config.stages, batch.get());
        return batch;
      });

  flow::function_node<BatchPtr, BatchPtr> dedup_keys(
      graph, flow::unlimited, [&](BatchPtr batch) {
        if (config.hasher) AppendDedupRecords(*config.hasher, batch.get());
        return batch;
      });

  flow::function_node<BatchPtr, BatchPtr> encode(
      graph, flow::unlimited, [&](BatchPtr batch) {
        EncodeBatch(encode_options, shards[batch->shard_index].name,
                    batch.get());
        return batch;
      });

  flow::sequencer_node<BatchPtr> order(
      graph, [](const BatchPtr& batch) { return batch->seq; });

  flow::function_node<BatchPtr, flow::continue_msg> write(
      graph, flow::serial, [&](const BatchPtr& batch) {
        writer.Write(*batch);
        return flow::continue_msg();
      });

  flow::make_edge(read, limit);
  flow::make_edge(limit, parse);
  flow::make_edge(parse, stages);
  flow::make_edge(stages, dedup_keys);
  flow::make_edge(dedup_keys, encode);
  flow::make_edge(encode, order);
  flow::make_edge(order, write);
  flow::make_edge(write, limit.decrementer());

  read.activate();
  graph.wait_for_all();
  writer.Finish();
}

}  // namespace needle
