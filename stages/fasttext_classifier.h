#pragma once
// A fastText classifier (a supervised .bin or .ftz model) that predicts
// exactly as the fastText command-line tool does, shared by the `lang` and
// `quality` stages.
//
// Predict() gives the labels and probabilities that `fasttext predict-prob
// MODEL - K` prints for the text read as one line: same tokens, same input
// rows in the same order, the same float arithmetic, so they agree bit for
// bit with libfasttext's predictLine() (tests/stages/lang_id_test.cc checks
// this on every kind of model). One literal exception is fastText's own: a
// "</s>" token ends the example, as in fastText's Python predict().
//
// Loaded once and then only read, by every thread. Each thread keeps its
// own scratch buffers (ThreadBuffers(), fetched once per batch), so
// predicting allocates nothing once a thread has seen its longest text.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace needle {

class FastTextClassifier {
 public:
  // (log probability, label id), best first: fastText's Predictions.
  using Prediction = std::pair<float, int32_t>;
  struct Buffers;  // one thread's scratch

  // Loads `path`. Throws std::runtime_error with a short reason ("cannot
  // open", "not a fastText model file", "truncated model file", ...) that
  // callers prefix with the path and the fix.
  explicit FastTextClassifier(const std::string& path);
  ~FastTextClassifier();
  FastTextClassifier(const FastTextClassifier&) = delete;
  FastTextClassifier& operator=(const FastTextClassifier&) = delete;

  int32_t label_count() const;
  // Label `id` without the model's label prefix ("__label__en" -> "en").
  const std::string& label(int32_t id) const;
  // Label `id` as the model stores it, prefix included.
  const std::string& full_label(int32_t id) const;
  // The id of label `name` (without the prefix), or -1.
  int32_t FindLabel(std::string_view name) const;

  // The calling thread's buffers. Fetch once per batch, not per document:
  // the lookup is a hash of the thread id.
  Buffers& ThreadBuffers() const;

  // The top `k` labels of `text` read as one line (newlines are spaces to
  // fastText's tokenizer), best first; valid until the next call with `b`.
  // Empty when the text has no token at all (whitespace only): the CLI
  // would predict from the end-of-line "</s>" alone, which says nothing
  // about the text, so callers decide what no words mean.
  std::span<const Prediction> Predict(std::string_view text, int32_t k,
                                      Buffers& b) const;

 private:
  class Impl;
  std::unique_ptr<const Impl> model_;
};

// The length in bytes of the first `max_chars` code points of `text` (all
// of it when max_chars is 0 or the text is shorter).
size_t PrefixBytes(std::string_view text, uint64_t max_chars);

// The line a stage gives the model, as cc_net, datatrove and DCLM prepare
// it: cut after `max_chars` code points (0: no cut), then '\n' replaced by
// ' ' so that the document is one fastText example. For the tests and
// benchmarks that hand the same line to the fastText CLI, and for writing
// training files; the stages read the text in place.
std::string FastTextLine(std::string_view text, uint64_t max_chars);

}  // namespace needle
