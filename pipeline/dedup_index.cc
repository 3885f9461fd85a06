#include "pipeline/dedup_index.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <queue>
#include <span>
#include <stdexcept>
#include <utility>

namespace needle {
namespace {

// One bucket record: a document in a band's bucket, or (band kExactBand)
// in an exact-key group. Fixed 16 bytes, written to runs as they are.
// `tag` packs the band into the top 6 bits and the document below them.
struct Record {
  uint64_t key = 0;
  uint64_t tag = 0;
};
static_assert(sizeof(Record) == 16);

constexpr int kDocBits = 58;
constexpr uint64_t kDocMask = (uint64_t{1} << kDocBits) - 1;
// Exact keys group by their high 64 bits, a pseudo-band after the real
// ones; members are then compared on the full 128 bits.
constexpr uint64_t kExactBand = kMaxBands;

uint64_t Tag(uint64_t band, uint64_t doc) { return band << kDocBits | doc; }
uint64_t BandOf(const Record& r) { return r.tag >> kDocBits; }
uint64_t DocOf(const Record& r) { return r.tag & kDocMask; }

// (band, key, doc) order. Every record is distinct: a document has one
// record per band.
bool operator<(const Record& a, const Record& b) {
  if (BandOf(a) != BandOf(b)) return BandOf(a) < BandOf(b);
  if (a.key != b.key) return a.key < b.key;
  return DocOf(a) < DocOf(b);
}

// Runs merged at once; more are first merged into longer runs, so the
// open files stay well under the usual limit of 1024 descriptors.
constexpr size_t kMaxFanIn = 64;
// Records read from a run at a time.
constexpr size_t kReadRecords = size_t{1} << 14;

std::atomic<uint64_t> next_index_id{0};

[[noreturn]] void ThrowIo(const std::string& what, const std::string& path) {
  throw std::runtime_error(
      fmt::format("dedup: cannot {} {}: {}", what, path, std::strerror(errno)));
}

// A sorted run file, read sequentially in blocks.
class RunReader {
 public:
  explicit RunReader(const std::string& path) : path_(path) {
    file_ = std::fopen(path.c_str(), "rb");
    if (file_ == nullptr) ThrowIo("open", path);
  }
  ~RunReader() {
    if (file_ != nullptr) std::fclose(file_);
  }
  RunReader(const RunReader&) = delete;
  RunReader& operator=(const RunReader&) = delete;

  // The next record, or false at the end.
  bool Next(Record* record) {
    if (pos_ == size_) {
      buffer_.resize(kReadRecords);
      size_ = std::fread(buffer_.data(), sizeof(Record), buffer_.size(), file_);
      pos_ = 0;
      if (size_ == 0) {
        if (std::ferror(file_)) ThrowIo("read", path_);
        return false;
      }
    }
    *record = buffer_[pos_++];
    return true;
  }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<Record> buffer_;
  size_t pos_ = 0;
  size_t size_ = 0;
};

class RunWriter {
 public:
  explicit RunWriter(const std::string& path) : path_(path) {
    file_ = std::fopen(path.c_str(), "wb");
    if (file_ == nullptr) ThrowIo("create", path);
  }
  ~RunWriter() {
    if (file_ != nullptr) std::fclose(file_);
  }
  RunWriter(const RunWriter&) = delete;
  RunWriter& operator=(const RunWriter&) = delete;

  void Write(const Record* records, size_t count) {
    if (std::fwrite(records, sizeof(Record), count, file_) != count) {
      ThrowIo("write", path_);
    }
    bytes_ += count * sizeof(Record);
  }
  void Close() {
    const int rc = std::fclose(file_);
    file_ = nullptr;
    if (rc != 0) ThrowIo("write", path_);
  }
  uint64_t bytes() const { return bytes_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  uint64_t bytes_ = 0;
};

// Merges sorted sources (run files, then at most one sorted span in
// memory) into one stream in (band, key, doc) order.
class Merger {
 public:
  Merger(const std::vector<std::string>& runs, std::span<const Record> memory)
      : memory_(memory) {
    readers_.reserve(runs.size());
    for (const std::string& path : runs) {
      readers_.push_back(std::make_unique<RunReader>(path));
    }
    for (size_t i = 0; i <= readers_.size(); ++i) Refill(i);
  }

  bool Next(Record* record) {
    if (heap_.empty()) return false;
    const Head head = heap_.top();
    heap_.pop();
    *record = head.record;
    Refill(head.source);
    return true;
  }

 private:
  struct Head {
    Record record;
    size_t source;
    // std::priority_queue keeps the largest on top.
    bool operator<(const Head& other) const { return other.record < record; }
  };

  // Pushes the next record of source i (readers_.size(): memory).
  void Refill(size_t i) {
    Record record;
    if (i < readers_.size()) {
      if (readers_[i]->Next(&record)) heap_.push({record, i});
    } else if (memory_pos_ < memory_.size()) {
      heap_.push({memory_[memory_pos_++], i});
    }
  }

  std::vector<std::unique_ptr<RunReader>> readers_;
  std::span<const Record> memory_;
  size_t memory_pos_ = 0;
  std::priority_queue<Head> heap_;
};

}  // namespace

struct DedupIndex::State {
  DedupOptions options;
  std::string work_dir;
  uint64_t id = next_index_id++;  // keeps the run names of indexes apart
  uint64_t run_count = 0;         // run files created, for their names

  std::vector<Record> buffer;
  size_t buffer_limit = 0;  // records
  std::vector<std::string> runs;
  uint64_t spilled_bytes = 0;

  // Per document, in doc order.
  struct Exact {
    uint64_t hi = 0;
    uint64_t lo = 0;
    bool operator==(const Exact&) const = default;
  };
  std::vector<Exact> exact;
  std::vector<uint64_t> length;  // keep = "longest" only
  std::vector<double> quality;   // keep = "highest_quality" only; NaN: none
  uint64_t docs = 0;

  std::string NewRunPath() {
    return fmt::format("{}/dedup-{}-{}-{}.run", work_dir, ::getpid(), id,
                       run_count++);
  }

  void Push(const Record& record) {
    if (buffer.size() >= buffer_limit) {
      Spill();
    } else if (buffer.size() == buffer.capacity()) {
      // Grown by hand, so that capacity never overshoots the limit.
      buffer.reserve(
          std::min(buffer_limit, std::max<size_t>(1024, 2 * buffer.size())));
    }
    buffer.push_back(record);
  }

  // Sorts the buffer and writes it as a run file.
  void Spill() {
    if (buffer.empty()) return;
    if (runs.empty()) std::filesystem::create_directories(work_dir);
    std::sort(buffer.begin(), buffer.end());
    runs.push_back(NewRunPath());
    RunWriter writer(runs.back());
    writer.Write(buffer.data(), buffer.size());
    writer.Close();
    spilled_bytes += writer.bytes();
    buffer.clear();
  }

  // Merges the oldest runs into one until at most kMaxFanIn are left.
  void ReduceRuns() {
    while (runs.size() > kMaxFanIn) {
      const std::vector<std::string> group(runs.begin(),
                                           runs.begin() + kMaxFanIn);
      // Listed before it is written, so that the destructor removes it
      // whatever happens.
      runs.push_back(NewRunPath());
      {
        Merger merger(group, {});
        RunWriter writer(runs.back());
        std::vector<Record> block;
        block.reserve(kReadRecords);
        Record record;
        while (merger.Next(&record)) {
          block.push_back(record);
          if (block.size() == kReadRecords) {
            writer.Write(block.data(), block.size());
            block.clear();
          }
        }
        writer.Write(block.data(), block.size());
        writer.Close();
      }
      for (const std::string& run : group) std::filesystem::remove(run);
      runs.erase(runs.begin(), runs.begin() + kMaxFanIn);
    }
  }

  ~State() {
    std::error_code ignored;
    for (const std::string& run : runs) std::filesystem::remove(run, ignored);
  }
};

namespace {

// Union-find over [0, n) with path halving and union by rank.
class DisjointSets {
 public:
  explicit DisjointSets(uint64_t n) : parent_(n), rank_(n, 0) {
    for (uint64_t i = 0; i < n; ++i) parent_[i] = i;
  }
  uint64_t Find(uint64_t x) {
    while (parent_[x] != x) {
      parent_[x] = parent_[parent_[x]];
      x = parent_[x];
    }
    return x;
  }
  void Union(uint64_t a, uint64_t b) {
    a = Find(a);
    b = Find(b);
    if (a == b) return;
    if (rank_[a] < rank_[b]) std::swap(a, b);
    parent_[b] = a;
    if (rank_[a] == rank_[b]) ++rank_[a];
  }

 private:
  std::vector<uint64_t> parent_;
  std::vector<uint8_t> rank_;
};

}  // namespace

DedupIndex::DedupIndex(const DedupOptions& options, std::string work_dir)
    : state_(std::make_unique<State>()) {
  state_->options = options;
  state_->work_dir = std::move(work_dir);
  state_->buffer_limit =
      std::max<uint64_t>(1, options.memory_limit_bytes / sizeof(Record));
}

DedupIndex::~DedupIndex() = default;

void DedupIndex::Add(uint64_t doc, const DedupDocument& document) {
  State& s = *state_;
  assert(doc == s.docs);
  s.exact.push_back({document.keys.exact_hi, document.keys.exact_lo});
  if (s.options.keep == "longest") s.length.push_back(document.length);
  if (s.options.keep == "highest_quality") {
    s.quality.push_back(document.has_quality
                            ? document.quality
                            : std::numeric_limits<double>::quiet_NaN());
  }
  ++s.docs;
  for (uint64_t b = 0; b < s.options.bands; ++b) {
    s.Push({document.keys.bands[b], Tag(b, doc)});
  }
  s.Push({document.keys.exact_hi, Tag(kExactBand, doc)});
}

void DedupIndex::AddWithoutKeys([[maybe_unused]] uint64_t doc) {
  State& s = *state_;
  assert(doc == s.docs);
  s.exact.push_back({});
  if (s.options.keep == "longest") s.length.push_back(0);
  if (s.options.keep == "highest_quality") {
    s.quality.push_back(std::numeric_limits<double>::quiet_NaN());
  }
  ++s.docs;
}

uint64_t DedupIndex::spilled_bytes() const { return state_->spilled_bytes; }

std::vector<DedupDecision> DedupIndex::Resolve() {
  State& s = *state_;
  const uint64_t n = s.docs;
  DisjointSets sets(n);

  // Link every document to the first (smallest) document of each group of
  // equal (band, key). The merged stream is the same whether or not, and
  // wherever, the buffer spilled, so the unions are too.
  std::sort(s.buffer.begin(), s.buffer.end());
  s.ReduceRuns();
  {
    Merger merger(s.runs, s.buffer);
    Record record;
    Record first;
    bool in_group = false;
    // Exact groups share the high 64 bits; the documents in one whose full
    // keys differ (vanishingly rare) link to the first with their key.
    std::vector<uint64_t> exact_firsts;
    while (merger.Next(&record)) {
      const uint64_t doc = DocOf(record);
      if (!in_group || BandOf(record) != BandOf(first) ||
          record.key != first.key) {
        first = record;
        in_group = true;
        exact_firsts.assign(1, doc);
        continue;
      }
      if (BandOf(record) != kExactBand) {
        sets.Union(DocOf(first), doc);
        continue;
      }
      const auto same = std::find_if(
          exact_firsts.begin(), exact_firsts.end(),
          [&](uint64_t other) { return s.exact[other] == s.exact[doc]; });
      if (same == exact_firsts.end()) {
        exact_firsts.push_back(doc);
      } else {
        sets.Union(*same, doc);
      }
    }
  }

  // Pick each cluster's document in doc order, so that ties go to the
  // first. The root's entry holds its cluster's running choice and size
  // until every member has been seen; then each member copies its root's.
  const std::string& keep = s.options.keep;
  auto better = [&](uint64_t candidate, uint64_t best) {
    if (keep == "longest") return s.length[candidate] > s.length[best];
    if (keep == "highest_quality") {
      const double q = s.quality[candidate];
      const double best_q = s.quality[best];
      return !std::isnan(q) && (std::isnan(best_q) || q > best_q);
    }
    return false;  // "first"
  };
  std::vector<DedupDecision> decisions(n, {.cluster_size = 0});
  for (uint64_t doc = 0; doc < n; ++doc) {
    DedupDecision& root = decisions[sets.Find(doc)];
    if (root.cluster_size++ == 0 || better(doc, root.kept_doc)) {
      root.kept_doc = doc;
    }
  }
  for (uint64_t doc = 0; doc < n; ++doc) {
    const DedupDecision root = decisions[sets.Find(doc)];
    DedupDecision& decision = decisions[doc];
    decision.kept_doc = root.kept_doc;
    decision.cluster_size = root.cluster_size;
    decision.exact =
        root.kept_doc != doc && s.exact[doc] == s.exact[root.kept_doc];
  }
  return decisions;
}

}  // namespace needle
