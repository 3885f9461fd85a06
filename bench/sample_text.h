#pragma once
// The texts of the sample shards (data/sample/, built by scripts/setup), for
// the benchmarks: each JSON line's "text" and its other string
// fields (the UDHR lines carry bcp47 and iso6393 language codes).

#include <simdjson.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "pipeline/byte_source.h"

namespace needle::bench {

struct SampleDoc {
  std::string text;
  std::map<std::string, std::string> fields;  // the other string fields
};

// Every line of `path` (any codec) with a string "text"; others skipped.
inline std::vector<SampleDoc> ReadSample(const std::string& path) {
  std::string error;
  auto source = ByteSource::Open(path, &error);
  if (!source) throw std::runtime_error(path + ": " + error);
  std::string bytes;
  char buffer[1 << 16];
  while (size_t n = source->Read(buffer, sizeof(buffer)))
    bytes.append(buffer, n);
  std::vector<SampleDoc> docs;
  simdjson::dom::parser parser;
  size_t start = 0;
  while (start < bytes.size()) {
    size_t end = bytes.find('\n', start);
    if (end == std::string::npos) end = bytes.size();
    simdjson::dom::object object;
    if (!parser.parse(bytes.data() + start, end - start).get(object)) {
      SampleDoc doc;
      for (auto field : object) {
        std::string_view value;
        if (field.value.get(value)) continue;
        if (field.key == "text") {
          doc.text = value;
        } else {
          doc.fields[std::string(field.key)] = value;
        }
      }
      if (!doc.text.empty()) docs.push_back(std::move(doc));
    }
    start = end + 1;
  }
  return docs;
}

// The texts of data/sample/brown.jsonl: the English prose most benches use.
inline std::vector<std::string> BrownTexts() {
  std::vector<std::string> texts;
  for (SampleDoc& doc : ReadSample(std::string(NEEDLE_SOURCE_DIR) +
                                   "/data/sample/brown.jsonl")) {
    texts.push_back(std::move(doc.text));
  }
  return texts;
}

}  // namespace needle::bench
