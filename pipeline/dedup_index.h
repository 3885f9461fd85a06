#pragma once
// The global part of deduplication: links documents that share an exact key
// or any band bucket, clusters them with union-find, and picks one document
// per cluster to keep.
//
// Documents are numbered globally in input order (shard by shard, line by
// line), so every decision is independent of thread count and of the order
// in which shards finished. Bucket records are buffered up to
// memory_limit_bytes, then spilled as sorted runs to files under the work
// directory and merged, so an index larger than memory still completes
// with the same result.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/minhash.h"

namespace needle {

struct DedupDocument {
  DedupKeys keys;
  uint64_t length = 0;  // characters, for keep = "longest"
  double quality = 0;   // quality_score, for keep = "highest_quality"
  bool has_quality = false;
};

struct DedupDecision {
  uint64_t kept_doc = 0;      // the document kept for this one's cluster
  uint64_t cluster_size = 1;  // 1: no duplicate
  bool exact = false;         // removed with the same exact key as kept_doc
};

class DedupIndex {
 public:
  DedupIndex(const DedupOptions& options, std::string work_dir);
  ~DedupIndex();

  // Adds document number `doc`; numbers must be added in increasing order,
  // starting at 0, without gaps (a document that takes no part in dedup
  // still gets its number: add it with has_keys = false).
  void Add(uint64_t doc, const DedupDocument& document);
  void AddWithoutKeys(uint64_t doc);

  // Clusters everything added so far. decisions[d].kept_doc == d for kept
  // documents (and for documents without keys, with cluster_size 1).
  std::vector<DedupDecision> Resolve();

  // Bytes spilled to disk so far (0 when everything fit in memory).
  uint64_t spilled_bytes() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace needle
