#pragma once
// The unit that flows through the graph: a run of whole lines from one shard,
// their parsed documents, and, once encoded, the bytes the writer appends.
//
// A batch owns every byte its documents point at (raw lines, unescaped text),
// so it moves through the graph as one pointer and nothing is copied per
// document. Batches never span shards; `seq` is global and dense, which lets
// the sequencer restore input order whatever the thread count.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pipeline/byte_source.h"
#include "pipeline/counters.h"
#include "pipeline/reason.h"

namespace needle {

// A value a stage measured on a document. Keys are string literals owned by
// the stage (static storage), so a signal costs no allocation to name.
struct Signal {
  std::string_view key;
  std::variant<int64_t, double, std::string> value;
};

struct Document {
  uint64_t line = 0;      // 1-based line number within the shard
  uint64_t offset = 0;    // byte offset of the line in the decompressed shard
  std::string_view raw;   // the line as read, without its newline
  std::string_view text;  // unescaped [input].text_field
  std::string_view id;    // unescaped id, or generated "<shard>:<line>"
  bool id_generated = false;  // the input had no id; the writer adds it
  Reason reason = Reason::kOk;
  std::string_view reject_stage;  // the stage that set `reason`
  std::string_view detail;        // a diagnosis for quarantine entries
  std::vector<Signal> signals;
  // Texts set by stages that edit it (C4 line removal, PII placeholders),
  // oldest first; `text` views the last, and the encoder writes it in place
  // of the input's text field. Earlier versions stay so that the stage
  // runner can undo a stage that threw; each on the heap so that moving the
  // Document keeps `text` valid (shared, so that Documents stay copyable).
  std::vector<std::shared_ptr<const std::string>> text_versions;
  // The NLTK word tokens of `words_of`, cached by words::WordsOf (filters/
  // words.h) so that the Gopher and FineWeb stages split a text once, not
  // once each (splitting is a third of their time). Valid only while
  // words_of views the same bytes as `text`: RewriteText clears it, and the
  // stage runner's undo, which sets `text` back, finds it stale.
  std::vector<std::string_view> words;
  std::string_view words_of;
  // The same for the lines of `lines_of` (Python's str.splitlines()), which
  // words::LinesOf caches for the Gopher quality and C4 stages.
  std::vector<std::string_view> lines;
  std::string_view lines_of;

  bool ok() const { return reason == Reason::kOk; }

  // Replaces the text that later stages see and the output carries.
  void RewriteText(std::string new_text) {
    text = *text_versions.emplace_back(
        std::make_shared<const std::string>(std::move(new_text)));
    words.clear();
    words_of = {};
    lines.clear();
    lines_of = {};
  }
  bool text_rewritten() const { return !text_versions.empty(); }

  // The value of the last signal named `key` if it holds a T, else nullptr.
  template <class T>
  const T* FindSignal(std::string_view key) const {
    for (auto it = signals.rbegin(); it != signals.rend(); ++it) {
      if (it->key == key) return std::get_if<T>(&it->value);
    }
    return nullptr;
  }
};

struct Batch {
  uint64_t seq = 0;        // dense, global: the sequencer's key
  size_t shard_index = 0;  // index into the run's shard list
  bool last_in_shard = false;
  uint64_t raw_bytes_end = 0;  // file bytes consumed when this batch ended
  // Set on the shard's last batch, for its record.
  uint64_t shard_xxh3 = 0;
  Codec shard_codec = Codec::kPlain;

  std::string raw;         // whole lines, each followed by '\n'; padded
  std::string text_arena;  // unescaped texts and ids; reserved, never moves
  std::deque<std::string> owned;  // rarer strings: details, rebuilt lines
  std::vector<Document> docs;

  ShardCounters counters;  // this batch's contribution, merged in seq order

  // Filled by the encoder, appended by the writer.
  std::string kept_bytes;
  std::string rejected_bytes;
  std::string quarantine_bytes;
  std::string dedup_records;   // with [dedup] enabled: keys of ok documents
  std::string signal_records;  // with [tiers] enabled: one zstd frame
};

// Keeps `text` alive as long as the batch and returns a view of it.
inline std::string_view Own(Batch* batch, std::string text) {
  return batch->owned.emplace_back(std::move(text));
}

using BatchPtr = std::shared_ptr<Batch>;

}  // namespace needle
