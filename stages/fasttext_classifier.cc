#include "stages/fasttext_classifier.h"

#include <fasttext/densematrix.h>
#include <fasttext/dictionary.h>
#include <fasttext/fasttext.h>
#include <fasttext/loss.h>
#include <fasttext/model.h>
#include <fasttext/quantmatrix.h>
#include <oneapi/tbb/enumerable_thread_specific.h>

#include <algorithm>
#include <array>
#include <bit>
#include <fstream>
#include <stdexcept>
#include <unordered_map>
#include <vector>

namespace needle {
namespace {

constexpr std::string_view kEos = "</s>";  // fasttext::Dictionary::EOS

// The bytes fastText's Dictionary::readWord() splits words on.
constexpr std::array<bool, 256> kIsSpace = [] {
  std::array<bool, 256> table{};
  for (const unsigned char c : {' ', '\n', '\r', '\t', '\v', '\f', '\0'}) {
    table[c] = true;
  }
  return table;
}();

bool IsSpace(char c) { return kIsSpace[static_cast<unsigned char>(c)]; }
bool IsContinuation(char c) { return (c & 0xC0) == 0x80; }

// fastText's FNV-1a: each byte is sign-extended before the xor (its models
// were trained with a signed char), so non-ASCII bytes hash as 0xffffffXX.
constexpr uint32_t kFnvOffset = 2166136261u;
uint32_t Fnv(uint32_t h, char c) {
  return (h ^ static_cast<uint32_t>(static_cast<int8_t>(c))) * 16777619u;
}

// fastText's Dictionary, derived only to read the tables that getLine()
// reads: the word hash table, the entries and the pruned-bucket map.
class DictionaryView final : public fasttext::Dictionary {
 public:
  DictionaryView(std::shared_ptr<fasttext::Args> args, std::istream& in)
      : Dictionary(std::move(args), in) {}
  const std::vector<int32_t>& word2int() const { return word2int_; }
  const std::vector<fasttext::entry>& words() const { return words_; }
  int64_t pruneidx_size() const { return pruneidx_size_; }
  const std::unordered_map<int32_t, int32_t>& pruneidx() const {
    return pruneidx_;
  }
};

// A token and the input rows it adds. The rows depend on the token's bytes
// only, so a cache hit is exact.
struct CachedToken {
  uint32_t hash = 0;
  bool is_word = false;  // else a label, which adds nothing
  std::string token;     // never empty once filled
  std::vector<int32_t> ids;
};
constexpr size_t kCachedTokens = 1024;  // direct-mapped, by hash
constexpr size_t kMaxCachedBytes = 48;  // longer tokens are rarely repeated

}  // namespace

// One thread's buffers, reused from text to text.
struct FastTextClassifier::Buffers {
  Buffers(int32_t dim, int32_t labels)
      : state(dim, labels, 0), cache(kCachedTokens) {}
  fasttext::Model::State state;       // hidden and output vectors
  std::vector<int32_t> ids;           // input rows, in getLine() order
  std::vector<int32_t> word_hashes;   // for word n-grams
  std::string word;                   // "<token>", for char n-grams
  fasttext::Predictions predictions;  // (log probability, label), best first
  std::vector<CachedToken> cache;     // recent tokens: most words repeat
};

// The model, loaded once and then only read.
//
// Prediction follows FastText::predictLine() step by step, without its
// istream and its per-line allocations: Encode() is Dictionary::getLine()
// over a string_view (same tokens, same input row ids, same order), and
// Predict() is Model::predict() with the input rows unpacked once at load
// time. Unpacking is exact: a row of a quantized matrix is the float
// product norm * centroid, which is what QuantMatrix adds each time, and
// the hidden vector sums the same floats in the same order.
class FastTextClassifier::Impl final : public fasttext::FastText {
 public:
  explicit Impl(const std::string& path);

  int32_t dim() const { return args_->dim; }
  int32_t label_count() const { return dict_->nlabels(); }
  const std::string& label(int32_t id) const { return labels_[id]; }
  const std::string& full_label(int32_t id) const { return full_labels_[id]; }
  int32_t FindLabel(std::string_view name) const;

  // Fills b.ids with the input rows of `text` read as one line. Returns the
  // number of words read before the end of the line.
  size_t Encode(std::string_view text, Buffers& b) const;
  // Fills b.predictions with the top k labels of b.ids, best first.
  void Predict(int32_t k, Buffers& b) const;

  Buffers& ThreadBuffers() const { return buffers_->local(); }

 private:
  void AddToken(std::string_view token, Buffers& b) const;
  void AddCharNgrams(const std::string& word, std::vector<int32_t>& ids) const;
  void AddWordNgrams(Buffers& b) const;
  void PushBucket(int32_t bucket, std::vector<int32_t>& ids) const;
  int32_t FindWord(std::string_view token, uint32_t h) const;
  int32_t PrunedRow(int32_t bucket) const;

  std::shared_ptr<DictionaryView> view_;
  std::shared_ptr<fasttext::Loss> output_loss_;
  std::vector<std::string> labels_;       // without the prefix
  std::vector<std::string> full_labels_;  // as in the model
  std::vector<float> unpacked_rows_;      // quantized models only
  const float* rows_ = nullptr;           // input matrix, row-major

  // Pruned (quantized) models keep a few of the hash buckets, each mapped
  // to a row past the words: pruneidx_ in an unordered_map, the CLI's
  // hottest spot. Here, a bitmap of kept buckets with a running count per
  // 64-bit word gives each kept bucket its rank among them, and
  // pruned_rows_[rank] its row (less nwords, as pruneidx_ holds it).
  struct BitmapWord {
    uint64_t bits = 0;
    uint32_t rank = 0;  // kept buckets before this word
  };
  std::vector<BitmapWord> kept_buckets_;
  std::vector<int32_t> pruned_rows_;

  // Scratch, not state: each thread's buffers, made on its first use.
  std::unique_ptr<oneapi::tbb::enumerable_thread_specific<Buffers>> buffers_;
};

FastTextClassifier::Impl::Impl(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) throw std::runtime_error("cannot open");
  if (!checkModel(in)) throw std::runtime_error("not a fastText model file");
  // FastText::loadModel(std::istream&), but with a DictionaryView.
  args_ = std::make_shared<fasttext::Args>();
  args_->load(in);
  if (args_->model != fasttext::model_name::sup) {
    throw std::runtime_error("not a supervised (classifier) model");
  }
  if (version == 11) args_->maxn = 0;  // fastText's backward compatibility
  view_ = std::make_shared<DictionaryView>(args_, in);
  dict_ = view_;
  bool quant_input = false;
  in.read(reinterpret_cast<char*>(&quant_input), sizeof(bool));
  if (quant_input) {
    quant_ = true;
    input_ = std::make_shared<fasttext::QuantMatrix>();
  } else {
    input_ = std::make_shared<fasttext::DenseMatrix>();
  }
  input_->load(in);
  if (!quant_input && view_->pruneidx_size() >= 0) {
    throw std::runtime_error("pruned but not quantized: an invalid model");
  }
  in.read(reinterpret_cast<char*>(&args_->qout), sizeof(bool));
  if (quant_ && args_->qout) {
    output_ = std::make_shared<fasttext::QuantMatrix>();
  } else {
    output_ = std::make_shared<fasttext::DenseMatrix>();
  }
  output_->load(in);
  if (!in) throw std::runtime_error("truncated model file");
  buildModel();
  output_loss_ = createLoss(output_);

  // Checked once here so that no row index read later can be out of range.
  const int64_t row_count = input_->size(0);
  const int64_t dim = input_->size(1);
  const int64_t bucket_rows = row_count - view_->nwords();
  if (dim != args_->dim || dim <= 0 || bucket_rows < 0 ||
      view_->nlabels() <= 0 || view_->word2int().empty() ||
      (view_->pruneidx_size() < 0 && bucket_rows < args_->bucket) ||
      (args_->bucket <= 0 && (args_->maxn > 0 || args_->wordNgrams > 1))) {
    throw std::runtime_error("inconsistent model file");
  }
  if (const auto* dense =
          dynamic_cast<const fasttext::DenseMatrix*>(input_.get())) {
    rows_ = dense->data();
  } else {
    unpacked_rows_.resize(row_count * dim);
    fasttext::Vector row(dim);
    for (int64_t i = 0; i < row_count; ++i) {
      row.zero();
      input_->addRowToVector(row, static_cast<int32_t>(i));
      std::copy_n(row.data(), dim, unpacked_rows_.data() + i * dim);
    }
    rows_ = unpacked_rows_.data();
  }

  if (view_->pruneidx_size() > 0) {
    const auto& pruneidx = view_->pruneidx();
    std::vector<std::pair<int32_t, int32_t>> sorted(pruneidx.begin(),
                                                    pruneidx.end());
    std::sort(sorted.begin(), sorted.end());
    if (sorted.front().first < 0 || sorted.back().first >= args_->bucket) {
      throw std::runtime_error("inconsistent model file");
    }
    kept_buckets_.resize(args_->bucket / 64 + 1);
    for (const auto& [bucket, row] : sorted) {
      if (row < 0 || row >= bucket_rows) {
        throw std::runtime_error("inconsistent model file");
      }
      kept_buckets_[bucket / 64].bits |= uint64_t{1} << (bucket % 64);
      pruned_rows_.push_back(row);
    }
    uint32_t rank = 0;
    for (BitmapWord& word : kept_buckets_) {
      word.rank = rank;
      rank += std::popcount(word.bits);
    }
  }

  for (int32_t i = 0; i < view_->nlabels(); ++i) {
    std::string label = view_->getLabel(i);
    full_labels_.push_back(label);
    if (label.starts_with(args_->label)) label.erase(0, args_->label.size());
    labels_.push_back(std::move(label));
  }
  buffers_ = std::make_unique<oneapi::tbb::enumerable_thread_specific<Buffers>>(
      [dim = args_->dim, labels = view_->nlabels()] {
        return Buffers(dim, labels);
      });
}

int32_t FastTextClassifier::Impl::FindLabel(std::string_view name) const {
  const auto it = std::find(labels_.begin(), labels_.end(), name);
  return it == labels_.end() ? -1 : static_cast<int32_t>(it - labels_.begin());
}

// Dictionary::find(): open addressing with linear probing.
int32_t FastTextClassifier::Impl::FindWord(std::string_view token,
                                           uint32_t h) const {
  const std::vector<int32_t>& word2int = view_->word2int();
  const std::vector<fasttext::entry>& words = view_->words();
  const auto size = static_cast<uint32_t>(word2int.size());
  uint32_t slot = h % size;
  while (word2int[slot] != -1 && words[word2int[slot]].word != token) {
    slot = (slot + 1) % size;
  }
  return word2int[slot];
}

int32_t FastTextClassifier::Impl::PrunedRow(int32_t bucket) const {
  const BitmapWord& word = kept_buckets_[bucket / 64];
  const uint64_t bit = uint64_t{1} << (bucket % 64);
  if ((word.bits & bit) == 0) return -1;
  return pruned_rows_[word.rank + std::popcount(word.bits & (bit - 1))];
}

// Dictionary::pushHash().
void FastTextClassifier::Impl::PushBucket(int32_t bucket,
                                          std::vector<int32_t>& ids) const {
  const int64_t pruned = view_->pruneidx_size();
  if (pruned == 0 || bucket < 0) return;
  if (pruned > 0) {
    bucket = PrunedRow(bucket);
    if (bucket < 0) return;
  }
  ids.push_back(view_->nwords() + bucket);
}

// Dictionary::computeSubwords(): the n-grams of minn to maxn code points
// of "<word>", but hashed as they grow instead of copied into strings.
void FastTextClassifier::Impl::AddCharNgrams(const std::string& word,
                                             std::vector<int32_t>& ids) const {
  const size_t size = word.size();
  const auto minn = static_cast<size_t>(args_->minn);
  const auto maxn = static_cast<size_t>(args_->maxn);
  const auto buckets = static_cast<uint32_t>(args_->bucket);
  for (size_t i = 0; i < size; ++i) {
    if (IsContinuation(word[i])) continue;
    uint32_t h = kFnvOffset;
    for (size_t j = i, n = 1; j < size && n <= maxn; ++n) {
      h = Fnv(h, word[j++]);
      while (j < size && IsContinuation(word[j])) h = Fnv(h, word[j++]);
      if (n >= minn && !(n == 1 && (i == 0 || j == size))) {
        PushBucket(static_cast<int32_t>(h % buckets), ids);
      }
    }
  }
}

// Dictionary::addWordNgrams(), with its integer conversions: the int32
// hashes are sign-extended into the 64-bit running hash.
void FastTextClassifier::Impl::AddWordNgrams(Buffers& b) const {
  const std::vector<int32_t>& hashes = b.word_hashes;
  const auto size = static_cast<int32_t>(hashes.size());
  const int32_t n = args_->wordNgrams;
  const auto buckets = static_cast<uint64_t>(args_->bucket);
  for (int32_t i = 0; i < size; ++i) {
    auto h = static_cast<uint64_t>(static_cast<int64_t>(hashes[i]));
    for (int32_t j = i + 1; j < size && j < i + n; ++j) {
      h = h * 116049371 +
          static_cast<uint64_t>(static_cast<int64_t>(hashes[j]));
      PushBucket(static_cast<int32_t>(h % buckets), b.ids);
    }
  }
}

// One word of Dictionary::getLine(): labels are set aside (dropped here),
// known words add their precomputed rows, unknown ones their n-grams.
void FastTextClassifier::Impl::AddToken(std::string_view token,
                                        Buffers& b) const {
  uint32_t h = kFnvOffset;
  for (const char c : token) h = Fnv(h, c);
  CachedToken& cached = b.cache[h % kCachedTokens];
  if (cached.hash == h && cached.token == token) {
    if (!cached.is_word) return;
    b.ids.insert(b.ids.end(), cached.ids.begin(), cached.ids.end());
    b.word_hashes.push_back(static_cast<int32_t>(h));
    return;
  }
  const size_t first = b.ids.size();
  const int32_t wid = FindWord(token, h);
  const bool is_word =
      wid < 0 ? !token.starts_with(args_->label)
              : view_->words()[wid].type == fasttext::entry_type::word;
  if (token.size() <= kMaxCachedBytes) {
    cached.hash = h;
    cached.is_word = is_word;
    cached.token.assign(token);
    cached.ids.clear();
  }
  if (!is_word) return;
  if (wid >= 0) {
    if (args_->maxn <= 0) {
      b.ids.push_back(wid);
    } else {
      const std::vector<int32_t>& rows = view_->getSubwords(wid);
      b.ids.insert(b.ids.end(), rows.begin(), rows.end());
    }
  } else if (token != kEos) {
    b.word.assign(fasttext::Dictionary::BOW);
    b.word.append(token);
    b.word.append(fasttext::Dictionary::EOW);
    AddCharNgrams(b.word, b.ids);
  }
  b.word_hashes.push_back(static_cast<int32_t>(h));
  if (token.size() <= kMaxCachedBytes) {
    cached.ids.assign(b.ids.begin() + static_cast<ptrdiff_t>(first),
                      b.ids.end());
  }
}

size_t FastTextClassifier::Impl::Encode(std::string_view text,
                                        Buffers& b) const {
  b.ids.clear();
  b.word_hashes.clear();
  size_t words = 0;
  bool ended = false;  // a literal "</s>" ends the example, as in getLine()
  size_t i = 0;
  while (!ended) {
    while (i < text.size() && IsSpace(text[i])) ++i;
    if (i == text.size()) break;
    const size_t start = i;
    while (i < text.size() && !IsSpace(text[i])) ++i;
    const std::string_view token = text.substr(start, i - start);
    ++words;
    AddToken(token, b);
    ended = token == kEos;
  }
  // The newline that ends the CLI's line reads as one more "</s>".
  if (!ended) AddToken(kEos, b);
  if (args_->wordNgrams > 1) AddWordNgrams(b);
  return words;
}

void FastTextClassifier::Impl::Predict(int32_t k, Buffers& b) const {
  b.predictions.clear();
  if (b.ids.empty()) return;  // FastText::predict() predicts nothing
  // Model::computeHidden(): the mean of the rows, as floats, in order. Each
  // element is its own sum, so summing 16 columns at a time in registers
  // (SIMD) adds the same floats in the same order.
  const int32_t dim = args_->dim;
  float* hidden = b.state.hidden.data();
  constexpr int32_t kBlock = 16;
  for (int32_t base = 0; base < dim; base += kBlock) {
    std::array<float, kBlock> sum{};
    const float* column = rows_ + base;
    if (dim - base >= kBlock) {
      for (const int32_t id : b.ids) {
        const float* row = column + static_cast<int64_t>(id) * dim;
        for (int32_t j = 0; j < kBlock; ++j) sum[j] += row[j];
      }
    } else {
      for (const int32_t id : b.ids) {
        const float* row = column + static_cast<int64_t>(id) * dim;
        for (int32_t j = 0; j < dim - base; ++j) sum[j] += row[j];
      }
    }
    std::copy_n(sum.begin(), std::min(kBlock, dim - base), hidden + base);
  }
  const auto scale =
      static_cast<float>(1.0 / static_cast<double>(b.ids.size()));
  for (int32_t j = 0; j < dim; ++j) hidden[j] *= scale;
  b.predictions.reserve(k + 1);
  output_loss_->predict(k, 0.0f, b.predictions, b.state);
}

FastTextClassifier::FastTextClassifier(const std::string& path)
    : model_(std::make_unique<const Impl>(path)) {}

FastTextClassifier::~FastTextClassifier() = default;

int32_t FastTextClassifier::label_count() const {
  return model_->label_count();
}

const std::string& FastTextClassifier::label(int32_t id) const {
  return model_->label(id);
}

const std::string& FastTextClassifier::full_label(int32_t id) const {
  return model_->full_label(id);
}

int32_t FastTextClassifier::FindLabel(std::string_view name) const {
  return model_->FindLabel(name);
}

FastTextClassifier::Buffers& FastTextClassifier::ThreadBuffers() const {
  return model_->ThreadBuffers();
}

std::span<const FastTextClassifier::Prediction> FastTextClassifier::Predict(
    std::string_view text, int32_t k, Buffers& b) const {
  b.predictions.clear();
  if (model_->Encode(text, b) > 0) model_->Predict(k, b);
  return b.predictions;
}

size_t PrefixBytes(std::string_view text, uint64_t max_chars) {
  if (max_chars == 0) return text.size();
  uint64_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    // Every byte but a continuation byte (10xxxxxx) starts a code point.
    if (!IsContinuation(text[i]) && chars++ == max_chars) return i;
  }
  return text.size();
}

std::string FastTextLine(std::string_view text, uint64_t max_chars) {
  std::string line(text.substr(0, PrefixBytes(text, max_chars)));
  std::replace(line.begin(), line.end(), '\n', ' ');
  return line;
}

}  // namespace needle
