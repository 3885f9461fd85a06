#pragma once
// What the token-count tests share: the documents whose pieces and counts
// are compared with other implementations (the npm tiktoken package, a
// backtracking regex engine), and running those under node.

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "pipeline/parser.h"
#include "pipeline/shard_reader.h"
#include "stages/bpe_tokenizer.h"
#include "tests/test_util.h"

namespace needle::testing {

// Where scripts/setup unpacks the npm package whose counts ours must equal.
inline std::string TiktokenDir() {
  return std::string(NEEDLE_SOURCE_DIR) + "/.cache/src/tiktoken-1.0.22/package";
}

inline std::string ModelPath(const std::string& encoding) {
  return std::string(NEEDLE_SOURCE_DIR) + "/models/" + encoding + ".json";
}

// models/<encoding>.json, loaded once per test binary.
inline const BpeTokenizer& LoadedTokenizer(const std::string& encoding) {
  static auto* loaded = new std::map<std::string, BpeTokenizer>();
  auto it = loaded->find(encoding);
  if (it == loaded->end()) {
    it = loaded->emplace(encoding, BpeTokenizer::Load(ModelPath(encoding)))
             .first;
  }
  return it->second;
}

struct NamedText {
  std::string name;  // "udhr.jsonl.gz:17", "codepoints:U+0300"
  std::string text;
};

// The ok documents of a shard, read and parsed as a run reads them; the
// reasons of the others go to `faults`, by line, when it is given.
inline std::vector<NamedText> ShardTexts(
    const std::string& path, std::map<uint64_t, Reason>* faults = nullptr) {
  Shard shard;
  shard.path = path;
  shard.name = std::filesystem::path(path).filename().string();
  const InputOptions options;
  ShardReader reader(shard, options);
  simdjson::dom::parser parser;
  std::vector<NamedText> texts;
  for (bool more = true; more;) {
    Batch batch;
    more = reader.Next(&batch);
    ParseBatch(options, shard.name, parser, &batch);
    for (const Document& doc : batch.docs) {
      if (doc.ok()) {
        texts.push_back({fmt::format("{}:{}", shard.name, doc.line),
                         std::string(doc.text)});
      } else if (faults != nullptr) {
        (*faults)[doc.line] = doc.reason;
      }
    }
  }
  return texts;
}

inline std::string Utf8(char32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

// Every code point of planes 0 to 2 (but surrogates), every 97th beyond,
// the tags and variation selectors of plane 14, and the last two: each in
// contexts where its class decides the pieces (after a letter, before and
// after an apostrophe, beside capitals, digits, newlines), 512 to a
// document.
inline std::vector<NamedText> CodePointTexts() {
  std::vector<char32_t> code_points;
  for (char32_t cp = 0; cp < 0x110000; cp = cp == 0xD7FF ? 0xE000 : cp + 1) {
    if (cp < 0x30000 || (cp >= 0xE0000 && cp < 0xE0200) || cp >= 0x10FFFE ||
        cp % 97 == 0) {
      code_points.push_back(cp);
    }
  }
  std::vector<NamedText> texts;
  for (size_t i = 0; i < code_points.size(); i += 512) {
    NamedText doc{fmt::format("codepoints:U+{:04X}", uint32_t{code_points[i]}),
                  ""};
    for (size_t k = i; k < std::min(i + 512, code_points.size()); ++k) {
      const std::string x = Utf8(code_points[k]);
      for (const char* context : {"'s a", "b A", "a ", "", "1'", "a ", "\n"}) {
        doc.text += x;
        doc.text += context;
      }
    }
    texts.push_back(std::move(doc));
  }
  return texts;
}

// The documents compared: the sample shards (Brown, the UDHR in 500+
// languages, the mixed crawl-like shard), tests/data/tokens/odd.jsonl, and
// the code-point sweep.
inline const std::vector<NamedText>& FixtureTexts() {
  static const auto* texts = [] {
    auto* all = new std::vector<NamedText>();
    for (const std::string& path :
         {SampleDir() + "/brown.jsonl", SampleDir() + "/udhr.jsonl.gz",
          SampleDir() + "/mixed.jsonl.zst", DataPath("tokens/odd.jsonl")}) {
      const auto shard = ShardTexts(path);
      if (shard.empty()) throw std::runtime_error("no documents in " + path);
      all->insert(all->end(), shard.begin(), shard.end());
    }
    const auto code_points = CodePointTexts();
    all->insert(all->end(), code_points.begin(), code_points.end());
    return all;
  }();
  return *texts;
}

// Writes each text as a little-endian uint32 byte length, then its bytes:
// what the node scripts read.
inline void WritePackedTexts(const std::vector<NamedText>& texts,
                             const std::string& path) {
  std::string packed;
  for (const NamedText& text : texts) {
    const auto size = static_cast<uint32_t>(text.text.size());
    for (int shift = 0; shift < 32; shift += 8) {
      packed += static_cast<char>((size >> shift) & 0xFF);
    }
    packed += text.text;
  }
  WriteFile(path, packed);
}

inline std::string ShellQuoted(const std::string& word) {
  std::string out = "'";
  for (const char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// Runs tests/stages/<script> under node with `args`; throws with what it
// printed to stderr when it fails.
inline void RunNode(const std::string& script,
                    const std::vector<std::string>& args) {
  const std::string log = MakeTempDir() + "/node.log";
  std::string command = "node " + ShellQuoted(std::string(NEEDLE_SOURCE_DIR) +
                                              "/tests/stages/" + script);
  for (const std::string& arg : args) command += " " + ShellQuoted(arg);
  command += " 2>" + ShellQuoted(log);
  if (const int status = std::system(command.c_str()); status != 0) {
    throw std::runtime_error(fmt::format(
        "`{}` failed (status {}): {}; scripts/setup installs node and "
        "unpacks the npm tiktoken package",
        command, status, ReadFile(log)));
  }
}

}  // namespace needle::testing
