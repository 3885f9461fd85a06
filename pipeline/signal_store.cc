#include "pipeline/signal_store.h"

#include <fmt/format.h>

#include <cstring>
#include <stdexcept>

namespace needle {
namespace {

enum class ValueType : uint8_t { kInt = 0, kDouble = 1, kString = 2 };

template <class T>
void Put(T value, std::string* out) {
  out->append(reinterpret_cast<const char*>(&value), sizeof(value));
}

}  // namespace

void AppendSignalRecords(const Batch& batch, std::string* out) {
  for (const Document& doc : batch.docs) {
    if (IsQuarantineReason(doc.reason)) continue;
    Put(static_cast<uint8_t>(doc.ok()), out);
    Put(static_cast<uint8_t>(doc.reason), out);
    Put(static_cast<uint64_t>(doc.text.size()), out);
    Put(static_cast<uint16_t>(doc.signals.size()), out);
    for (const Signal& signal : doc.signals) {
      Put(static_cast<uint8_t>(signal.key.size()), out);
      out->append(signal.key.substr(0, 255));
      if (const auto* integer = std::get_if<int64_t>(&signal.value)) {
        Put(ValueType::kInt, out);
        Put(*integer, out);
      } else if (const auto* number = std::get_if<double>(&signal.value)) {
        Put(ValueType::kDouble, out);
        Put(*number, out);
      } else {
        const std::string& text = std::get<std::string>(signal.value);
        Put(ValueType::kString, out);
        Put(static_cast<uint32_t>(text.size()), out);
        out->append(text);
      }
    }
  }
}

SignalStoreReader::SignalStoreReader(const std::string& path) : path_(path) {
  std::string error;
  source_ = ByteSource::Open(path, &error);
  if (!source_) throw std::runtime_error(fmt::format("{}: {}", path, error));
}

bool SignalStoreReader::Fill(size_t bytes) {
  if (buffer_.size() - at_ >= bytes) return true;
  buffer_.erase(0, at_);
  at_ = 0;
  std::string chunk(std::max<size_t>(bytes, 1 << 16), '\0');
  while (buffer_.size() < bytes) {
    const size_t n = source_->Read(chunk.data(), chunk.size());
    if (n == 0) break;
    buffer_.append(chunk.data(), n);
  }
  if (!source_->fault().empty()) {
    throw std::runtime_error(fmt::format("{}: {}", path_, source_->fault()));
  }
  return buffer_.size() >= bytes;
}

bool SignalStoreReader::Next(StoredDocument* doc) {
  constexpr size_t kHeader = 1 + 1 + 8 + 2;
  if (!Fill(1)) return false;
  auto damaged = [&] {
    return std::runtime_error(fmt::format("{}: damaged signal record", path_));
  };
  if (!Fill(kHeader)) throw damaged();
  auto take = [&](void* out, size_t n) {
    if (!Fill(n)) throw damaged();
    std::memcpy(out, buffer_.data() + at_, n);
    at_ += n;
  };
  uint8_t passed = 0;
  uint8_t reason = 0;
  uint16_t count = 0;
  take(&passed, 1);
  take(&reason, 1);
  take(&doc->text_bytes, 8);
  take(&count, 2);
  if (reason >= kReasonCount) throw damaged();
  doc->passed_stages = passed != 0;
  doc->reason = static_cast<Reason>(reason);
  doc->signals.resize(count);
  keys_.resize(std::max<size_t>(keys_.size(), count));
  for (uint16_t i = 0; i < count; ++i) {
    uint8_t key_size = 0;
    take(&key_size, 1);
    keys_[i].resize(key_size);
    take(keys_[i].data(), key_size);
    Signal& signal = doc->signals[i];
    signal.key = keys_[i];
    ValueType type{};
    take(&type, 1);
    if (type == ValueType::kInt) {
      int64_t value = 0;
      take(&value, 8);
      signal.value = value;
    } else if (type == ValueType::kDouble) {
      double value = 0;
      take(&value, 8);
      signal.value = value;
    } else if (type == ValueType::kString) {
      uint32_t size = 0;
      take(&size, 4);
      std::string text(size, '\0');
      take(text.data(), size);
      signal.value = std::move(text);
    } else {
      throw damaged();
    }
  }
  return true;
}

}  // namespace needle
