#pragma once
// Training a fastText quality classifier for the `quality` stage, after
// DCLM's recipe (Li et al. 2024; their baselines/train_fasttext_classifier.py):
// fastText's supervised defaults with word bigrams, one example per
// document, high-quality documents labeled __label__hq and the rest
// __label__lq.
//
// Each document's text is prepared exactly as the stage prepares it before
// predicting (stages/quality.h: '\n' to ' ', optional max_chars prefix, case
// kept), so the model is trained on what it will see. A seeded split holds
// out a fraction of each class; the model is then scored on it through the
// stage's own prediction code: precision and recall of __label__hq as the
// top label, and ROC AUC of its probability.
//
// Where this differs from DCLM's script, on purpose: the held-out split is
// drawn per class (theirs shuffles all lines together), so that both
// classes are measured however small one is; the low-quality label is
// __label__lq (theirs __label__cc); it reports precision and recall of
// __label__hq and ROC AUC where theirs prints fastText's P@1 and R@1 (both
// accuracy, with one label per example); and it trains on one thread by
// default (theirs on fastText's default, 12), for a reproducible model.
//
// Deterministic for a fixed seed with threads = 1: same inputs, same model
// file, byte for byte. fastText trains its threads lock-free on shared
// weights (Hogwild), so with more threads each run differs a little.
// Every prepared text is held in memory until the training file (a
// temporary, which fastText reads) is written.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pipeline/config.h"

namespace needle {

inline constexpr std::string_view kQualityPositiveLabel = "__label__hq";
inline constexpr std::string_view kQualityNegativeLabel = "__label__lq";

struct QualityTrainOptions {  // TOML [quality_train]
  std::string text_field = "text";
  uint64_t max_chars = 0;
  double holdout_fraction = 0.1;
  int seed = 1;
  int threads = 1;
  // fastText's supervised defaults as DCLM kept them, with word bigrams.
  double lr = 0.1;
  int dim = 100;
  int epoch = 5;
  int min_count = 1;
  int word_ngrams = 2;
  int bucket = 2'000'000;
  int minn = 0;
  int maxn = 0;
  std::string loss = "softmax";

  void Visit(ConfigSection& s) {
    s.Field("text_field", &text_field,
            "JSON field holding each training document's text; lines "
            "without it as a string are skipped and counted.");
    s.Field("max_chars", &max_chars,
            "Train on the first max_chars Unicode characters of each "
            "document (newlines become spaces first), as [quality] "
            "max_chars scores them; 0 takes the whole text.");
    s.Field("holdout_fraction", &holdout_fraction,
            "Share of each class held out of training to measure "
            "precision, recall and ROC AUC; 0 trains on everything.",
            0.0, 0.5);
    s.Field("seed", &seed,
            "Seed of the held-out split, the example order and fastText's "
            "own random numbers.",
            0, INT32_MAX);
    s.Field("threads", &threads,
            "fastText training threads; only 1 gives the same model on every "
            "run (fastText's threads update shared weights without locks).",
            1, 1024);
    s.Field("lr", &lr, "fastText -lr: learning rate.", 1e-6, 100.0);
    s.Field("dim", &dim, "fastText -dim: size of the word vectors.", 1, 10'000);
    s.Field("epoch", &epoch, "fastText -epoch: passes over the examples.", 1,
            10'000);
    s.Field("min_count", &min_count,
            "fastText -minCount: words seen fewer times are dropped.", 1,
            INT32_MAX);
    s.Field("word_ngrams", &word_ngrams,
            "fastText -wordNgrams: longest word n-gram used as a feature "
            "(DCLM: 2, unigrams and bigrams).",
            1, 10);
    s.Field("bucket", &bucket,
            "fastText -bucket: hash buckets for word and character n-grams; "
            "the model holds bucket x dim floats (ignored, as by fastText, "
            "with word_ngrams = 1 and maxn = 0).",
            1, INT32_MAX);
    s.Field("minn", &minn,
            "fastText -minn: shortest character n-gram; 0 with maxn = 0 "
            "uses none.",
            0, 100);
    s.Field("maxn", &maxn, "fastText -maxn: longest character n-gram.", 0, 100);
    s.Choice("loss", &loss, {"softmax", "hs", "ova"},
             "fastText -loss: softmax (fastText's supervised default), "
             "hierarchical softmax or one-vs-all.");
  }
};

// The section's name, and reading it (with its title) from a config file.
inline constexpr const char* kQualityTrainSection = "quality_train";
inline void ReadQualityTrainSection(ConfigFile& config,
                                    QualityTrainOptions* options) {
  config.Read(kQualityTrainSection,
              "Training a quality classifier: `needle quality train`", options);
}

struct QualityTrainRequest {
  std::vector<std::string> positive;  // JSONL files, directories or globs
  std::vector<std::string> negative;
  std::string output;  // the model file, written atomically
};

struct QualityMetrics {
  size_t positives = 0;  // held-out examples of each class
  size_t negatives = 0;
  // Of __label__hq as the top label; NaN when nothing was predicted hq.
  double precision = 0;
  double recall = 0;
  double roc_auc = 0;  // of the probability of __label__hq
};

struct QualityTrainResult {
  size_t positive_docs = 0;  // usable documents read from each side
  size_t negative_docs = 0;
  size_t skipped_lines = 0;  // not a JSON object with a string text field
  size_t empty_docs = 0;     // no token once prepared: nothing to learn
  size_t train_examples = 0;
  double train_seconds = 0;
  std::optional<QualityMetrics> held_out;  // none when holdout_fraction is 0
};

// Reads both sides, trains, writes request.output, and scores the held-out
// split. Throws std::runtime_error for unreadable inputs, a side with no
// usable document, and fastText's own errors (named as fastText's).
QualityTrainResult TrainQualityModel(const QualityTrainOptions& options,
                                     const QualityTrainRequest& request);

// What `needle quality train` prints: the counts, the held-out metrics and
// where the model went, one "needle: " line each.
std::string QualityTrainReport(const QualityTrainOptions& options,
                               const QualityTrainRequest& request,
                               const QualityTrainResult& result);

// The area under the ROC curve: the probability that a random positive
// scores above a random negative, a tie counting one half (Mann-Whitney U
// over mid-ranks). NaN when either side is empty.
double RocAuc(std::span<const double> positive_scores,
              std::span<const double> negative_scores);

}  // namespace needle
