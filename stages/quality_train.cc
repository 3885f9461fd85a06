#include "stages/quality_train.h"

#include <fasttext/args.h>
#include <fasttext/fasttext.h>
#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <stdexcept>

#include "pipeline/byte_source.h"
#include "pipeline/shard.h"
#include "stages/fasttext_classifier.h"

namespace needle {
namespace {

namespace fs = std::filesystem;

struct Example {
  bool positive = false;
  std::string line;  // prepared: what the model sees, without the label
};

// fastText splits words on these bytes; a line of nothing else has no word.
bool HasToken(std::string_view line) {
  return line.find_first_not_of(std::string_view(" \n\r\t\v\f\0", 7)) !=
         std::string_view::npos;
}

// Appends the prepared text of every document in `inputs` to `examples`.
void ReadSide(const QualityTrainOptions& options,
              const std::vector<std::string>& inputs, bool positive,
              std::vector<Example>* examples, QualityTrainResult* result) {
  simdjson::dom::parser parser;
  size_t docs = 0;
  auto take_line = [&](std::string_view line) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;
    std::string_view text;
    simdjson::dom::element doc;
    if (parser.parse(line.data(), line.size()).get(doc) != simdjson::SUCCESS ||
        !doc.is_object() ||
        doc[options.text_field].get(text) != simdjson::SUCCESS) {
      ++result->skipped_lines;
      return;
    }
    std::string prepared = FastTextLine(text, options.max_chars);
    if (!HasToken(prepared)) {
      ++result->empty_docs;
      return;
    }
    examples->push_back({positive, std::move(prepared)});
    ++docs;
  };
  std::vector<Shard> shards;
  try {
    shards = FindShards(inputs);
  } catch (const std::runtime_error& error) {
    throw std::runtime_error(fmt::format(
        "{} documents: {}", positive ? "positive" : "negative", error.what()));
  }
  for (const Shard& shard : shards) {
    std::string error;
    const auto source = ByteSource::Open(shard.path, &error);
    if (!source) throw std::runtime_error(shard.path + ": " + error);
    std::string pending;
    std::vector<char> chunk(1 << 20);
    while (const size_t n = source->Read(chunk.data(), chunk.size())) {
      pending.append(chunk.data(), n);
      size_t start = 0;
      for (size_t end; (end = pending.find('\n', start)) != std::string::npos;
           start = end + 1) {
        take_line(std::string_view(pending).substr(start, end - start));
      }
      pending.erase(0, start);
    }
    if (!source->fault().empty()) {
      throw std::runtime_error(shard.path + ": " + source->fault());
    }
    take_line(pending);
  }
  if (docs == 0) {
    throw std::runtime_error(fmt::format(
        "no {} document with text in '{}' (is [quality_train] text_field "
        "right?)",
        positive ? "positive" : "negative", options.text_field));
  }
  (positive ? result->positive_docs : result->negative_docs) = docs;
}

// A uniform integer in [0, n), by rejection: no modulo bias, and the same
// sequence on every platform (std::uniform_int_distribution's is not fixed).
uint64_t Below(std::mt19937_64& rng, uint64_t n) {
  const uint64_t limit = std::numeric_limits<uint64_t>::max() -
                         std::numeric_limits<uint64_t>::max() % n;
  uint64_t x = 0;
  do {
    x = rng();
  } while (x >= limit);
  return x % n;
}

// Fisher-Yates, spelled out for the same reason.
template <class T>
void Shuffle(std::vector<T>& items, std::mt19937_64& rng) {
  for (size_t i = items.size(); i > 1; --i) {
    std::swap(items[i - 1], items[Below(rng, i)]);
  }
}

// A temporary directory removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (fs::temp_directory_path() / "needle-quality-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("cannot create a temporary directory in " +
                               fs::temp_directory_path().string());
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

fasttext::loss_name LossName(const std::string& loss) {
  if (loss == "hs") return fasttext::loss_name::hs;
  if (loss == "ova") return fasttext::loss_name::ova;
  return fasttext::loss_name::softmax;
}

// What `fasttext supervised` sets before parsing its flags, then ours.
fasttext::Args TrainingArgs(const QualityTrainOptions& options,
                            const std::string& input) {
  fasttext::Args args;
  args.input = input;
  args.model = fasttext::model_name::sup;
  args.loss = LossName(options.loss);
  args.lr = options.lr;
  args.dim = options.dim;
  args.epoch = options.epoch;
  args.minCount = options.min_count;
  args.wordNgrams = options.word_ngrams;
  args.bucket = options.bucket;
  args.minn = options.minn;
  args.maxn = options.maxn;
  args.thread = options.threads;
  args.seed = options.seed;
  args.verbose = 0;
  // As the CLI: without n-grams the buckets would be dead weight.
  if (args.wordNgrams <= 1 && args.maxn == 0) args.bucket = 0;
  return args;
}

void WriteTrainingFile(const std::string& path,
                       const std::vector<Example>& examples) {
  std::ofstream out(path, std::ios::binary);
  for (const Example& example : examples) {
    out << (example.positive ? kQualityPositiveLabel : kQualityNegativeLabel)
        << ' ' << example.line << '\n';
  }
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
}

void TrainAndSave(const fasttext::Args& args, const std::string& output) {
  const fs::path parent = fs::path(output).parent_path();
  if (!parent.empty()) fs::create_directories(parent);
  const std::string temp = output + ".tmp";
  try {
    fasttext::FastText model;
    model.train(args);
    model.saveModel(temp);
  } catch (const std::exception& error) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw std::runtime_error(std::string("fastText: ") + error.what());
  }
  fs::rename(temp, output);
}

// Scores the held-out examples with the saved model, as the stage would.
QualityMetrics Evaluate(const std::string& model_path,
                        const std::vector<Example>& held_out) {
  const FastTextClassifier model(model_path);
  int32_t positive_id = -1;
  for (int32_t id = 0; id < model.label_count(); ++id) {
    if (model.full_label(id) == kQualityPositiveLabel) positive_id = id;
  }
  FastTextClassifier::Buffers& buffers = model.ThreadBuffers();
  std::vector<double> positive_scores;
  std::vector<double> negative_scores;
  size_t true_positives = 0;
  size_t predicted_positives = 0;
  for (const Example& example : held_out) {
    const auto predictions =
        model.Predict(example.line, model.label_count(), buffers);
    double score = 0;
    for (const auto& [log_probability, id] : predictions) {
      if (id == positive_id) score = std::exp(log_probability);
    }
    const bool predicted =
        !predictions.empty() && predictions[0].second == positive_id;
    predicted_positives += predicted;
    true_positives += predicted && example.positive;
    (example.positive ? positive_scores : negative_scores).push_back(score);
  }
  QualityMetrics metrics;
  metrics.positives = positive_scores.size();
  metrics.negatives = negative_scores.size();
  metrics.precision = predicted_positives == 0
                          ? std::nan("")
                          : static_cast<double>(true_positives) /
                                static_cast<double>(predicted_positives);
  metrics.recall = positive_scores.empty()
                       ? std::nan("")
                       : static_cast<double>(true_positives) /
                             static_cast<double>(positive_scores.size());
  metrics.roc_auc = RocAuc(positive_scores, negative_scores);
  return metrics;
}

}  // namespace

double RocAuc(std::span<const double> positive_scores,
              std::span<const double> negative_scores) {
  if (positive_scores.empty() || negative_scores.empty()) return std::nan("");
  // Rank all scores together; tied scores share the mean of their ranks.
  std::vector<std::pair<double, bool>> all;
  all.reserve(positive_scores.size() + negative_scores.size());
  for (const double s : positive_scores) all.emplace_back(s, true);
  for (const double s : negative_scores) all.emplace_back(s, false);
  std::sort(all.begin(), all.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  double positive_rank_sum = 0;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    size_t positives = 0;
    while (j < all.size() && all[j].first == all[i].first) {
      positives += all[j].second;
      ++j;
    }
    // Ranks i+1 .. j, 1-based: their mean is (i + 1 + j) / 2.
    positive_rank_sum +=
        static_cast<double>(positives) * (static_cast<double>(i + 1 + j) / 2.0);
    i = j;
  }
  const auto p = static_cast<double>(positive_scores.size());
  const auto n = static_cast<double>(negative_scores.size());
  // Mann-Whitney U of the positives over the negatives, normalized.
  return (positive_rank_sum - p * (p + 1) / 2) / (p * n);
}

QualityTrainResult TrainQualityModel(const QualityTrainOptions& options,
                                     const QualityTrainRequest& request) {
  QualityTrainResult result;
  std::vector<Example> positives;
  std::vector<Example> negatives;
  ReadSide(options, request.positive, true, &positives, &result);
  ReadSide(options, request.negative, false, &negatives, &result);

  // Each class shuffled and split on its own, so that both are held out in
  // the same proportion; the training examples are then shuffled together,
  // since stochastic gradient descent over all positives first, then all
  // negatives, would end biased to the last class it saw.
  std::mt19937_64 rng(static_cast<uint64_t>(options.seed));
  std::vector<Example> train;
  std::vector<Example> held_out;
  for (std::vector<Example>* side : {&positives, &negatives}) {
    Shuffle(*side, rng);
    size_t hold = static_cast<size_t>(std::llround(
        options.holdout_fraction * static_cast<double>(side->size())));
    hold = std::min(hold, side->size() - 1);  // keep one to train on
    held_out.insert(
        held_out.end(), std::make_move_iterator(side->begin()),
        std::make_move_iterator(side->begin() + static_cast<ptrdiff_t>(hold)));
    train.insert(
        train.end(),
        std::make_move_iterator(side->begin() + static_cast<ptrdiff_t>(hold)),
        std::make_move_iterator(side->end()));
  }
  Shuffle(train, rng);
  result.train_examples = train.size();

  const TempDir scratch;
  const std::string train_path = scratch.path() + "/train.txt";
  WriteTrainingFile(train_path, train);
  train.clear();
  const auto start = std::chrono::steady_clock::now();
  TrainAndSave(TrainingArgs(options, train_path), request.output);
  result.train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (options.holdout_fraction > 0) {
    result.held_out = Evaluate(request.output, held_out);
  }
  return result;
}

std::string QualityTrainReport(const QualityTrainOptions& options,
                               const QualityTrainRequest& request,
                               const QualityTrainResult& result) {
  std::string out = fmt::format(
      "needle: {} positive and {} negative documents ({} lines skipped, {} "
      "without words)\n",
      result.positive_docs, result.negative_docs, result.skipped_lines,
      result.empty_docs);
  out += fmt::format(
      "needle: trained on {} examples in {:.1f} s (fastText {}: dim {}, "
      "word_ngrams {}, epoch {}, lr {}, {} thread{}, seed {})\n",
      result.train_examples, result.train_seconds, options.loss, options.dim,
      options.word_ngrams, options.epoch, options.lr, options.threads,
      options.threads == 1 ? "" : "s", options.seed);
  if (const auto& m = result.held_out) {
    out += fmt::format(
        "needle: held out {} ({} positive, {} negative): precision {:.4f}, "
        "recall {:.4f}, ROC AUC {:.4f}\n",
        m->positives + m->negatives, m->positives, m->negatives, m->precision,
        m->recall, m->roc_auc);
  } else {
    out += "needle: nothing held out (holdout_fraction = 0): no metrics\n";
  }
  out += fmt::format("needle: model written to {}\n", request.output);
  return out;
}

}  // namespace needle
