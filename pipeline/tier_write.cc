#include "pipeline/tier_write.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "pipeline/atomic_file.h"
#include "pipeline/byte_source.h"
#include "pipeline/compress.h"
#include "pipeline/dedup_step.h"
#include "pipeline/encoder.h"
#include "pipeline/json_text.h"
#include "pipeline/shard_writer.h"

namespace needle {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMarkerFormat = "needle.tiers/2";
// A file's plain bytes per compressed frame, as the graph's writer: the
// frames, and so the bytes, depend only on the lines written.
constexpr size_t kFrameBytes = size_t{1} << 20;
constexpr std::string_view kNeedleObject = ",\"needle\":{";
constexpr std::string_view kBelowFirstTierFields =
    "\"reason\":\"below_first_tier\",\"stage\":\"tiers\",";

std::string MarkerPath(const std::string& out_dir, const Shard& shard) {
  return fmt::format("{}/tiers/done/{}.layout", out_dir, shard.stem);
}
// The new marker while the switch to it is under way: the commit point.
std::string SwitchPath(const std::string& out_dir, const Shard& shard) {
  return fmt::format("{}/tiers/done/{}.next", out_dir, shard.stem);
}

std::string PlacePath(const std::string& out_dir, std::string_view place,
                      const Shard& shard, Codec codec) {
  const std::string file = shard.stem + ".jsonl" + CodecExtension(codec);
  if (place == kRejectedPlace) return out_dir + "/rejected/" + file;
  if (place == kBelowFirstTierPlace) {
    return out_dir + "/staged/below_first_tier/" + file;
  }
  return fmt::format("{}/tiers/{}/{}", out_dir, place, file);
}

// Every place the shard may have a file in: each folder under tiers/ (an
// earlier tiering's too), rejected/ and below_first_tier/.
std::vector<std::string> PossiblePlaces(const std::string& out_dir) {
  std::vector<std::string> places = {std::string(kRejectedPlace),
                                     std::string(kBelowFirstTierPlace)};
  std::error_code error;
  for (const auto& entry :
       fs::directory_iterator(fs::path(out_dir) / "tiers", error)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && name != "done") places.push_back(name);
  }
  return places;
}

void RemoveFile(const std::string& path) {
  std::error_code error;
  fs::remove(path, error);
  if (error) {
    throw std::runtime_error(
        fmt::format("{}: cannot remove: {}", path, error.message()));
  }
}

// Deletes the .next files of an attempt that never reached its commit
// point (and AtomicFile's .tmp files of one cut short).
void RemoveUnfinished(const std::string& out_dir, const Shard& shard,
                      Codec codec) {
  for (const std::string& place : PossiblePlaces(out_dir)) {
    const std::string path = PlacePath(out_dir, place, shard, codec);
    for (const char* suffix : {".next", ".tmp"}) {
      RemoveFile(path + suffix);
    }
  }
}

// From the commit point on: the .next files replace the old ones, places
// the new layout does not use are emptied, staged/ goes, and the marker
// takes its final name. Every step may be repeated after a crash.
void FinishSwitch(const std::string& out_dir, const Shard& shard, Codec codec,
                  const ShardLayout& layout) {
  for (const std::string& place : layout.places) {
    const std::string path = PlacePath(out_dir, place, shard, codec);
    if (fs::exists(path + ".next")) fs::rename(path + ".next", path);
  }
  for (const std::string& place : PossiblePlaces(out_dir)) {
    if (std::find(layout.places.begin(), layout.places.end(), place) !=
        layout.places.end()) {
      continue;
    }
    RemoveFile(PlacePath(out_dir, place, shard, codec));
  }
  RemoveUnfinished(out_dir, shard, codec);
  const ShardPaths staged = PathsFor(out_dir, shard, codec, /*staged=*/true);
  RemoveFile(staged.kept);
  RemoveFile(staged.rejected);
  // The marker of the format before layouts (needle.tiers/1).
  RemoveFile(fmt::format("{}/tiers/done/{}.txt", out_dir, shard.stem));
  fs::rename(SwitchPath(out_dir, shard), MarkerPath(out_dir, shard));
}

// A file mapped into memory, read only.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat status {};
    if (fd < 0 || ::fstat(fd, &status) != 0) {
      const int error = errno;
      if (fd >= 0) ::close(fd);
      throw std::runtime_error(
          fmt::format("{}: cannot open: {}", path, std::strerror(error)));
    }
    size_ = static_cast<size_t>(status.st_size);
    if (size_ > 0) {
      data_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    }
    ::close(fd);
    if (data_ == MAP_FAILED) {
      throw std::runtime_error(fmt::format("{}: cannot map", path));
    }
  }
  ~MappedFile() {
    if (size_ > 0) ::munmap(data_, size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view bytes() const {
    return {static_cast<const char*>(data_), size_};
  }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

struct DCtxDeleter {
  void operator()(ZSTD_DCtx* dctx) const { ZSTD_freeDCtx(dctx); }
};

// One line at a time from a file the run wrote, in any codec; the view
// stays valid until the next call. The run's zstd files are frames that
// declare their size (pipeline/compress.h), so each is decompressed in
// one call straight into the line buffer, and plain files are read in
// place: no stream buffers to fill and copy out of.
class LineReader {
 public:
  explicit LineReader(std::string path) : path_(std::move(path)), file_(path_) {
    constexpr std::string_view kZstdMagic = "\x28\xb5\x2f\xfd";
    if (file_.bytes().starts_with(kZstdMagic)) {
      frames_ = file_.bytes();
    } else if (!file_.bytes().starts_with("\x1f\x8b")) {
      text_ = file_.bytes();  // plain: the lines are the file
    } else {
      std::string error;
      stream_ = ByteSource::Open(path_, &error);
      if (!stream_) {
        throw std::runtime_error(fmt::format("{}: {}", path_, error));
      }
    }
  }

  // False at the end of the file.
  bool Next(std::string_view* line) {
    for (;;) {
      if (const size_t newline = text_.find('\n');
          newline != std::string_view::npos) {
        *line = text_.substr(0, newline);
        text_.remove_prefix(newline + 1);
        return true;
      }
      if (!Fill()) {
        if (text_.empty()) return false;
        *line = text_;  // a last line without its newline
        text_ = {};
        return true;
      }
    }
  }

  std::string_view NextOrThrow(std::string_view what) {
    std::string_view line;
    if (!Next(&line)) {
      throw std::runtime_error(
          fmt::format("{}: fewer documents than {}", path_, what));
    }
    return line;
  }

  const std::string& path() const { return path_; }

 private:
  // Appends the next frame's (or chunk's) bytes to the unread text; false
  // at the end of the file.
  bool Fill() {
    if (frames_.empty() && !stream_) return false;
    // The unread bytes (a line cut between frames) move to the front.
    std::memmove(buffer_.data(), text_.data(), text_.size());
    const size_t kept = text_.size();
    text_ = std::string_view(buffer_.data(), kept);
    size_t added = 0;
    if (stream_) {
      Reserve(kept + kChunk);
      added = stream_->Read(buffer_.data() + kept, kChunk);
      if (added == 0 && !stream_->fault().empty()) Damaged(stream_->fault());
      if (added == 0) stream_.reset();
    } else {
      const size_t frame_size =
          ZSTD_findFrameCompressedSize(frames_.data(), frames_.size());
      const unsigned long long content =
          ZSTD_getFrameContentSize(frames_.data(), frames_.size());
      if (ZSTD_isError(frame_size) || content == ZSTD_CONTENTSIZE_ERROR ||
          content == ZSTD_CONTENTSIZE_UNKNOWN) {
        Damaged("a zstd frame without its size");
      }
      Reserve(kept + content);
      if (!dctx_) dctx_.reset(ZSTD_createDCtx());
      added = ZSTD_decompressDCtx(dctx_.get(), buffer_.data() + kept, content,
                                  frames_.data(), frame_size);
      if (ZSTD_isError(added)) Damaged(ZSTD_getErrorName(added));
      frames_.remove_prefix(frame_size);
    }
    text_ = std::string_view(buffer_.data(), kept + added);
    return added > 0 || !frames_.empty() || stream_;
  }

  void Reserve(size_t size) {
    if (buffer_.size() >= size) return;
    std::string grown(std::max(size, 2 * buffer_.size()), '\0');
    grown.replace(0, text_.size(), text_);
    buffer_ = std::move(grown);
  }

  [[noreturn]] void Damaged(std::string_view why) {
    throw std::runtime_error(fmt::format("{}: damaged: {}", path_, why));
  }

  static constexpr size_t kChunk = size_t{1} << 18;  // gzip reads
  std::string path_;
  MappedFile file_;
  std::string_view frames_;             // zstd frames not yet read
  std::unique_ptr<ByteSource> stream_;  // gzip
  std::unique_ptr<ZSTD_DCtx, DCtxDeleter> dctx_;
  std::string buffer_;
  std::string_view text_;  // unread lines, in buffer_ or the mapped file
};

// A file written from start to end, then closed; made durable by
// SyncFiles. It needs no temporary name: its own name (.next) is one.
class OutputFile {
 public:
  explicit OutputFile(std::string path) : path_(std::move(path)) {
    std::error_code error;
    fs::create_directories(fs::path(path_).parent_path(), error);
    file_ = std::fopen(path_.c_str(), "wb");
    if (file_ == nullptr) Fail("create");
  }
  ~OutputFile() {
    if (file_ != nullptr) std::fclose(file_);
  }
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  void Append(std::string_view bytes) {
    if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
      Fail("write");
    }
  }
  void Close() {
    const int status = std::fclose(file_);
    file_ = nullptr;
    if (status != 0) Fail("write");
  }
  const std::string& path() const { return path_; }

 private:
  [[noreturn]] void Fail(std::string_view what) {
    throw std::runtime_error(
        fmt::format("{}: cannot {}: {}", path_, what, std::strerror(errno)));
  }
  std::string path_;
  std::FILE* file_ = nullptr;
};

// The files of the places being rewritten. Lines are appended to each
// place's plain buffer; a buffer that reaches kFrameBytes becomes one
// frame. Frames are compressed on all cores, up to `in_flight` at a time,
// and appended to their .next files in order.
class PlaceFiles {
 public:
  PlaceFiles(const EncodeOptions& encode, std::vector<std::string> paths,
             size_t in_flight)
      : encode_(encode),
        paths_(std::move(paths)),
        files_(paths_.size()),
        plain_(paths_.size()),
        in_flight_(std::max<size_t>(in_flight, 1)) {}

  std::string* buffer(size_t place) {
    // Once, so that a frame's buffer never moves while it fills.
    if (plain_[place].capacity() == 0) plain_[place].reserve(kFrameBytes * 2);
    return &plain_[place];
  }

  void EndLine(size_t place) {
    plain_[place] += '\n';
    if (plain_[place].size() >= kFrameBytes) Queue(place);
  }

  void Commit() {
    for (size_t place = 0; place < plain_.size(); ++place) {
      if (!plain_[place].empty()) Queue(place);
    }
    Drain();
    std::vector<std::string> written;
    for (const std::unique_ptr<OutputFile>& file : files_) {
      if (!file) continue;
      file->Close();
      written.push_back(file->path());
    }
    SyncFiles(written);
  }

 private:
  struct Frame {
    size_t place;
    std::string plain;
    std::string compressed;
  };

  void Queue(size_t place) {
    Frame& frame = pending_.emplace_back();
    frame.place = place;
    std::swap(frame.plain, plain_[place]);
    if (!spare_.empty()) {
      std::swap(plain_[place], spare_.back().plain);
      std::swap(frame.compressed, spare_.back().compressed);
      spare_.pop_back();
    }
    if (pending_.size() >= in_flight_) Drain();
  }

  void Drain() {
    // Isolated: a worker waiting here must not pick up another shard.
    oneapi::tbb::this_task_arena::isolate([&] {
      oneapi::tbb::parallel_for(size_t{0}, pending_.size(), [&](size_t k) {
        AppendCompressedFrame(encode_.codec, encode_.level, pending_[k].plain,
                              &pending_[k].compressed);
      });
    });
    for (Frame& frame : pending_) {
      std::unique_ptr<OutputFile>& file = files_[frame.place];
      if (!file) file = std::make_unique<OutputFile>(paths_[frame.place]);
      file->Append(frame.compressed);
      frame.plain.clear();
      frame.compressed.clear();
      spare_.push_back(std::move(frame));
    }
    pending_.clear();
  }

  const EncodeOptions& encode_;
  std::vector<std::string> paths_;
  std::vector<std::unique_ptr<OutputFile>> files_;
  std::vector<std::string> plain_;
  std::vector<Frame> pending_;
  std::vector<Frame> spare_;  // cleared buffers, capacity kept
  size_t in_flight_;
};

// The fields the tier step adds at the start of a document's needle
// object in `place`.
std::string PlaceFields(std::string_view place, Reason reason) {
  if (place == kRejectedPlace) {
    return reason == Reason::kOk ? std::string(kBelowFirstTierFields) : "";
  }
  if (place == kBelowFirstTierPlace) return "";
  std::string fields = "\"tier\":";
  AppendJsonString(place, &fields);
  fields += ',';
  return fields;
}

// Appends `line` with `old_fields` at the start of its needle object (the
// encoder's last field) replaced by `new_fields`.
void AppendRespliced(std::string_view line, std::string_view old_fields,
                     std::string_view new_fields, const std::string& path,
                     std::string* out) {
  size_t at = line.rfind(kNeedleObject);
  if (at == std::string_view::npos ||
      line.substr(at + kNeedleObject.size(), old_fields.size()) != old_fields) {
    throw std::runtime_error(fmt::format(
        "{}: damaged: a line without the needle fields {}", path,
        old_fields.empty() ? std::string("object") : std::string(old_fields)));
  }
  at += kNeedleObject.size();
  out->append(line.substr(0, at));
  out->append(new_fields);
  out->append(line.substr(at + old_fields.size()));
}

ShardLayout NewLayout(const ShardTiering& t) {
  const size_t tiers = t.tier_names.size();
  if (tiers + 2 > 255) {
    throw std::runtime_error(fmt::format("{} tiers: at most 253", tiers));
  }
  // Place ids before compaction: tiers, rejected, below the first tier.
  std::vector<size_t> count(tiers + 2, 0);
  std::vector<uint8_t> id(t.tiers.size());
  const uint8_t below = t.config->output.write_rejected ? tiers : tiers + 1;
  for (size_t i = 0; i < t.tiers.size(); ++i) {
    id[i] = t.tiers[i] >= 0 ? static_cast<uint8_t>(t.tiers[i]) : below;
    ++count[id[i]];
  }
  ShardLayout layout;
  std::vector<uint8_t> compact(tiers + 2, 0);
  for (size_t p = 0; p < tiers + 2; ++p) {
    if (count[p] == 0) continue;
    compact[p] = static_cast<uint8_t>(layout.places.size());
    layout.places.push_back(p < tiers    ? t.tier_names[p]
                            : p == tiers ? std::string(kRejectedPlace)
                                         : std::string(kBelowFirstTierPlace));
  }
  layout.place_of.resize(id.size());
  for (size_t i = 0; i < id.size(); ++i) layout.place_of[i] = compact[id[i]];
  return layout;
}

// The documents of one shard in input order, from the staged files (the
// first tiering) or from the places of the last one.
class ShardDocuments {
 public:
  ShardDocuments(const ShardTiering& t, const TierMarker* old, Codec codec)
      : t_(t), old_(old) {
    if (old_) {
      readers_.resize(old_->layout.places.size());
      for (const std::string& place : old_->layout.places) {
        paths_.push_back(PlacePath(t.out_dir, place, *t.shard, codec));
      }
      return;
    }
    const ShardPaths staged = PathsFor(t.out_dir, *t.shard, codec, true);
    if (!fs::exists(staged.kept)) {
      throw std::runtime_error(fmt::format(
          "{}: the documents of {} are neither staged nor in tier files "
          "that {} describes; run `needle run` again",
          staged.kept, t.shard->name, MarkerPath(t.out_dir, *t.shard)));
    }
    kept_ = std::make_unique<LineReader>(staged.kept);
    if (fs::exists(staged.rejected)) {
      rejected_ = std::make_unique<LineReader>(staged.rejected);
    }
    if (t.config->hasher) fates_ = ReadDedupFates(t.out_dir, *t.shard);
  }

  // Appends document `i` to `out` with `new_fields` in its needle object.
  void Append(size_t i, std::string_view new_fields, std::string* out) {
    if (old_) {
      const uint8_t place = old_->layout.place_of[i];
      std::unique_ptr<LineReader>& reader = readers_[place];
      if (!reader) reader = std::make_unique<LineReader>(paths_[place]);
      AppendRespliced(reader->NextOrThrow("the tier marker lists"),
                      PlaceFields(old_->layout.places[place], t_.reasons[i]),
                      new_fields, reader->path(), out);
      return;
    }
    if (!t_.passed[i]) {
      if (!rejected_) {
        throw std::runtime_error(fmt::format(
            "{}: no staged rejects, but the stored signals have some",
            t_.shard->name));
      }
      AppendRespliced(rejected_->NextOrThrow("stored signals"), "", new_fields,
                      rejected_->path(), out);
      return;
    }
    std::string_view line = kept_->NextOrThrow("stored signals");
    if (t_.config->hasher) {
      if (staged_ == fates_.size()) {
        throw std::runtime_error(fmt::format(
            "{}: more staged documents than dedup decisions", kept_->path()));
      }
      with_fate_.clear();
      AppendWithDedupFate(line, fates_[staged_], &with_fate_);
      line = with_fate_;
    }
    ++staged_;
    AppendRespliced(line, "", new_fields, kept_->path(), out);
  }

  // Reads and drops document `i` from its old place.
  void Skip(size_t i) {
    const uint8_t place = old_->layout.place_of[i];
    std::unique_ptr<LineReader>& reader = readers_[place];
    if (!reader) reader = std::make_unique<LineReader>(paths_[place]);
    reader->NextOrThrow("the tier marker lists");
  }

 private:
  const ShardTiering& t_;
  const TierMarker* old_;
  std::vector<std::string> paths_;
  std::vector<std::unique_ptr<LineReader>> readers_;
  std::unique_ptr<LineReader> kept_, rejected_;
  std::vector<DedupFate> fates_;
  size_t staged_ = 0;
  std::string with_fate_;
};

std::string Compress(std::string_view bytes) {
  std::string out;
  AppendCompressedFrame(Codec::kZstd, 3, bytes, &out);
  return out;
}

bool Decompress(std::string_view frame, size_t size, std::string* out) {
  const unsigned long long declared =
      ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (declared != size) return false;
  out->resize(size);
  const size_t n =
      ZSTD_decompress(out->data(), size, frame.data(), frame.size());
  return !ZSTD_isError(n) && n == size;
}

}  // namespace

std::string TierMarkerBytes(const TierMarker& marker) {
  const ShardLayout& layout = marker.layout;
  std::string out =
      fmt::format("{}\nkey {}\nannotated {}\ndocs {}\n", kMarkerFormat,
                  marker.key, marker.annotated, layout.place_of.size());
  for (const std::string& place : layout.places) out += "place " + place + "\n";
  const std::string compressed = Compress(
      std::string_view(reinterpret_cast<const char*>(layout.place_of.data()),
                       layout.place_of.size()));
  out += fmt::format("layout {}\n", compressed.size());
  return out + compressed;
}

std::optional<TierMarker> ParseTierMarker(std::string_view bytes) {
  auto take_line = [&](std::string_view prefix,
                       std::string_view* rest) -> bool {
    const size_t newline = bytes.find('\n');
    if (newline == std::string_view::npos || !bytes.starts_with(prefix)) {
      return false;
    }
    *rest = bytes.substr(prefix.size(), newline - prefix.size());
    bytes.remove_prefix(newline + 1);
    return true;
  };
  auto number = [](std::string_view text, size_t* value) {
    const auto [end, error] =
        std::from_chars(text.data(), text.data() + text.size(), *value);
    return error == std::errc() && end == text.data() + text.size();
  };
  TierMarker marker;
  std::string_view field;
  size_t docs = 0;
  size_t compressed = 0;
  if (!take_line(kMarkerFormat, &field) || !field.empty()) return std::nullopt;
  if (!take_line("key ", &field)) return std::nullopt;
  marker.key = field;
  if (!take_line("annotated ", &field)) return std::nullopt;
  marker.annotated = field;
  if (!take_line("docs ", &field) || !number(field, &docs)) {
    return std::nullopt;
  }
  while (take_line("place ", &field)) {
    marker.layout.places.emplace_back(field);
  }
  if (!take_line("layout ", &field) || !number(field, &compressed) ||
      compressed != bytes.size()) {
    return std::nullopt;
  }
  std::string place_of;
  if (!Decompress(bytes, docs, &place_of)) return std::nullopt;
  marker.layout.place_of.assign(place_of.begin(), place_of.end());
  for (const uint8_t place : marker.layout.place_of) {
    if (place >= marker.layout.places.size()) return std::nullopt;
  }
  return marker;
}

bool TierShardDone(const std::string& out_dir, const Shard& shard,
                   const std::string& key) {
  if (fs::exists(SwitchPath(out_dir, shard))) return false;
  // The header alone: markers are written whole (WriteFileAtomically).
  const std::string header = fmt::format("{}\nkey {}\n", kMarkerFormat, key);
  std::ifstream in(MarkerPath(out_dir, shard), std::ios::binary);
  std::string start(header.size(), '\0');
  in.read(start.data(), static_cast<std::streamsize>(start.size()));
  return in && start == header;
}

void WriteTierShard(const ShardTiering& t) {
  const EncodeOptions encode = MakeEncodeOptions(*t.config);
  const Codec codec = encode.codec;
  const Shard& shard = *t.shard;
  // A switch a crash interrupted after its commit point: finish it.
  if (const std::optional<TierMarker> switching =
          ParseTierMarker(ReadFileOrEmpty(SwitchPath(t.out_dir, shard)))) {
    FinishSwitch(t.out_dir, shard, codec, switching->layout);
  }
  RemoveFile(SwitchPath(t.out_dir, shard));  // a switch marker cut short
  std::optional<TierMarker> old =
      ParseTierMarker(ReadFileOrEmpty(MarkerPath(t.out_dir, shard)));
  if (old && old->key == t.key) return;
  RemoveUnfinished(t.out_dir, shard, codec);
  // The old places hold this shard's documents only if the marker was made
  // from the same annotate output; else they are in staged/.
  if (old && (old->annotated != t.annotated ||
              old->layout.place_of.size() != t.tiers.size())) {
    old.reset();
  }

  TierMarker next{t.key, t.annotated, NewLayout(t)};
  const ShardLayout& layout = next.layout;
  // A new place is rewritten unless it holds the same documents as the old
  // place of the same name. Old places feeding a rewritten one are read.
  std::vector<uint8_t> rewrite(layout.places.size(), old ? 0 : 1);
  std::vector<uint8_t> read(old ? old->layout.places.size() : 0, 0);
  if (old) {
    std::vector<int> new_of_old(old->layout.places.size(), -1);
    for (size_t q = 0; q < old->layout.places.size(); ++q) {
      const auto same = std::find(layout.places.begin(), layout.places.end(),
                                  old->layout.places[q]);
      if (same != layout.places.end()) {
        new_of_old[q] = static_cast<int>(same - layout.places.begin());
      }
    }
    for (size_t i = 0; i < layout.place_of.size(); ++i) {
      const uint8_t p = layout.place_of[i];
      const uint8_t q = old->layout.place_of[i];
      if (new_of_old[q] == p) continue;
      rewrite[p] = 1;                                      // gains a document
      if (new_of_old[q] >= 0) rewrite[new_of_old[q]] = 1;  // loses one
    }
    for (size_t i = 0; i < layout.place_of.size(); ++i) {
      read[old->layout.place_of[i]] |= rewrite[layout.place_of[i]];
    }
  }

  std::vector<std::string> paths;
  for (const std::string& place : layout.places) {
    paths.push_back(PlacePath(t.out_dir, place, shard, codec) + ".next");
  }
  PlaceFiles files(encode, paths, t.frames_in_flight);
  ShardDocuments documents(t, old ? &*old : nullptr, codec);
  for (size_t i = 0; i < layout.place_of.size(); ++i) {
    const uint8_t p = layout.place_of[i];
    if (rewrite[p]) {
      documents.Append(i, PlaceFields(layout.places[p], t.reasons[i]),
                       files.buffer(p));
      files.EndLine(p);
    } else if (old && read[old->layout.place_of[i]]) {
      documents.Skip(i);
    }
  }
  files.Commit();
  WriteFileAtomically(SwitchPath(t.out_dir, shard), TierMarkerBytes(next));
  FinishSwitch(t.out_dir, shard, codec, layout);
}

void RemoveEmptyStagedFolders(const std::string& out_dir) {
  std::error_code error;  // a folder still in use stays
  for (const char* folder : {"/staged/kept", "/staged/rejected",
                             "/staged/below_first_tier", "/staged"}) {
    fs::remove(out_dir + folder, error);
  }
}

}  // namespace needle
