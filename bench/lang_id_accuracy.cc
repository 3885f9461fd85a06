// Top-1 accuracy of the `lang` stage on the UDHR translations in
// data/sample/udhr.jsonl.gz (issue 3). Prints, never asserts.
//
//   build/bench/lang_id_accuracy [--model PATH] [--errors]
//
// A translation counts when its language is one of the model's labels:
// its BCP-47 primary subtag (ISO 639-1 where one exists) or its ISO 639-3
// code is a label, or the table below maps it to one. The table holds the
// varieties the model knows under their macrolanguage (Quechua varieties as
// "qu", Malay as "ms", Bokmål as "no", Tosk as Albanian "sq", Bhojpuri as
// "bh") and lid.176's Wikipedia codes that are not ISO's ("als" is
// Alemannic, ISO gsw; ISO als is Tosk Albanian). The rest (the UDHR covers
// ~500 languages, lid.176 176) have no right answer and are left out. Accuracy
// is also given on prefixes of the text (max_chars), and within groups of
// closely related languages, where lid.176 is weakest.

#include <fasttext/fasttext.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "bench/sample_text.h"
#include "stages/lang_id.h"

namespace needle {
namespace {

// UDHR codes (BCP-47 primary subtag) whose lid.176 label is another code,
// checked first.
const std::map<std::string, std::string>& Mapped() {
  static const auto* table = new std::map<std::string, std::string>{
      {"zlm", "ms"}, {"nb", "no"},  {"gsw", "als"}, {"als", "sq"},
      {"bho", "bh"}, {"quy", "qu"}, {"quz", "qu"},  {"qug", "qu"},
      {"qul", "qu"}, {"qva", "qu"}, {"qvc", "qu"},  {"qvh", "qu"},
      {"qvm", "qu"}, {"qvn", "qu"}, {"qwh", "qu"},  {"qxn", "qu"},
      {"qxu", "qu"}, {"quh", "qu"},
  };
  return *table;
}

// Groups of closely related labels, to show where confusions concentrate.
struct Group {
  const char* name;
  std::set<std::string> labels;
};
const std::vector<Group>& Groups() {
  static const auto* groups = new std::vector<Group>{
      {"South Slavic", {"sr", "hr", "bs", "sh", "sl", "mk", "bg"}},
      {"East Slavic", {"ru", "uk", "be", "rue"}},
      {"Scandinavian", {"da", "no", "nn", "sv", "is"}},
      {"Malay and neighbours", {"ms", "id", "min", "jv", "su"}},
      {"Ibero-Romance", {"es", "pt", "gl", "ast", "mwl", "an", "ca", "oc"}},
      {"Italo-Romance", {"it", "vec", "lmo", "pms", "nap", "scn", "sc", "co"}},
      {"Gallo-Romance and Romansh", {"fr", "wa", "rm", "frp"}},
      {"West Germanic", {"de", "nl", "fy", "nds", "lb", "als", "li", "bar"}},
      {"Turkic",
       {"tr", "az", "azb", "tk", "uz", "kk", "ky", "tt", "ba", "sah", "tyv",
        "cv", "ug"}},
      {"Indo-Aryan",
       {"hi", "mr", "ne", "sa", "mai", "bh", "new", "ur", "pa", "pnb", "gu",
        "bn", "as", "or"}},
      {"Iranian", {"fa", "tg", "ku", "ckb", "ps", "os"}},
      {"Chinese", {"zh", "wuu", "yue"}},
      {"Quechua", {"qu"}},
  };
  return *groups;
}

struct Case {
  std::string id;
  std::string bcp47;
  std::string text;
  std::string expected;
  std::string rule;  // how `expected` was found
};

int Main(int argc, char** argv) {
  std::string model = std::string(NEEDLE_SOURCE_DIR) + "/models/lid.176.ftz";
  bool errors = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--model" && i + 1 < argc) model = argv[++i];
    if (flag == "--errors") errors = true;
  }
  fasttext::FastText fasttext;
  fasttext.loadModel(model);
  std::set<std::string> labels;
  const auto dictionary = fasttext.getDictionary();
  for (int32_t i = 0; i < dictionary->nlabels(); ++i) {
    labels.insert(dictionary->getLabel(i).substr(9));  // "__label__"
  }

  const auto docs = bench::ReadSample(std::string(NEEDLE_SOURCE_DIR) +
                                      "/data/sample/udhr.jsonl.gz");
  std::vector<Case> cases;
  std::set<std::string> languages;
  for (const bench::SampleDoc& doc : docs) {
    Case c{doc.fields.at("id"), doc.fields.at("bcp47"), doc.text, "", ""};
    const std::string primary = c.bcp47.substr(0, c.bcp47.find('-'));
    const std::string& iso6393 = doc.fields.at("iso6393");
    if (auto it = Mapped().find(primary); it != Mapped().end()) {
      c.expected = it->second;
      c.rule = "mapped";
    } else if (labels.contains(primary)) {
      c.expected = primary;
      c.rule = "bcp47";
    } else if (labels.contains(iso6393)) {
      c.expected = iso6393;
      c.rule = "iso6393";
    } else {
      continue;
    }
    languages.insert(c.expected);
    cases.push_back(std::move(c));
  }
  fmt::print(
      "UDHR: {} translations; {} in {} of the model's {} languages "
      "(by BCP-47 subtag {}, ISO 639-3 {}, mapped {})\n\n",
      docs.size(), cases.size(), languages.size(), labels.size(),
      std::count_if(cases.begin(), cases.end(),
                    [](const Case& c) { return c.rule == "bcp47"; }),
      std::count_if(cases.begin(), cases.end(),
                    [](const Case& c) { return c.rule == "iso6393"; }),
      std::count_if(cases.begin(), cases.end(),
                    [](const Case& c) { return c.rule == "mapped"; }));

  const std::vector<uint64_t> prefixes = {0, 200, 50, 20};
  std::vector<std::vector<std::string>> predicted(prefixes.size());
  std::vector<std::vector<double>> scores(prefixes.size());
  for (size_t p = 0; p < prefixes.size(); ++p) {
    LangId::Options options;
    options.model_path = model;
    options.min_score = 0;
    options.max_chars = prefixes[p];
    const LangId stage(options);
    std::vector<Document> batch(cases.size());
    for (size_t i = 0; i < cases.size(); ++i) batch[i].text = cases[i].text;
    stage.Process(batch);
    for (const Document& doc : batch) {
      predicted[p].push_back(std::get<std::string>(doc.signals[0].value));
      scores[p].push_back(std::get<double>(doc.signals[1].value));
    }
  }

  auto accuracy = [&](size_t p, auto&& include) {
    size_t right = 0;
    size_t total = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
      if (!include(cases[i])) continue;
      ++total;
      right += predicted[p][i] == cases[i].expected;
    }
    return std::pair(right, total);
  };
  auto cell = [](std::pair<size_t, size_t> counts) {
    if (counts.second == 0) return std::string("-");
    return fmt::format("{:.1f}% ({}/{})",
                       100.0 * static_cast<double>(counts.first) /
                           static_cast<double>(counts.second),
                       counts.first, counts.second);
  };
  fmt::print(
      "| translations | whole text | 200 chars | 50 chars | 20 chars |\n");
  fmt::print("|---|---|---|---|---|\n");
  auto row = [&](const std::string& name, auto&& include) {
    fmt::print("| {} |", name);
    for (size_t p = 0; p < prefixes.size(); ++p) {
      fmt::print(" {} |", cell(accuracy(p, include)));
    }
    fmt::print("\n");
  };
  row("all", [](const Case&) { return true; });
  for (const char* rule : {"bcp47", "iso6393", "mapped"}) {
    row(fmt::format("by {}", rule),
        [&](const Case& c) { return c.rule == rule; });
  }
  // A script subtag (sr-Latn, jv-Java) marks text in one of several
  // scripts, often not the one the model learned the language in.
  auto has_script = [](const Case& c) {
    for (size_t at = c.bcp47.find('-'); at != std::string::npos;
         at = c.bcp47.find('-', at + 1)) {
      const size_t end = c.bcp47.find('-', at + 1);
      const size_t size =
          (end == std::string::npos ? c.bcp47.size() : end) - at - 1;
      if (size == 4 &&
          std::isupper(static_cast<unsigned char>(c.bcp47[at + 1]))) {
        return true;
      }
    }
    return false;
  };
  row("with a script subtag", has_script);
  row("without one", [&](const Case& c) { return !has_script(c); });
  for (const Group& group : Groups()) {
    row(group.name,
        [&](const Case& c) { return group.labels.contains(c.expected); });
  }
  row("none of these groups", [&](const Case& c) {
    return std::none_of(Groups().begin(), Groups().end(), [&](const Group& g) {
      return g.labels.contains(c.expected);
    });
  });

  fmt::print("\nwhole-text errors (expected -> predicted, score):\n");
  for (size_t i = 0; i < cases.size(); ++i) {
    if (predicted[0][i] == cases[i].expected) continue;
    fmt::print("  {} [{}]: {} -> {} {:.3f} ({} bytes)\n", cases[i].id,
               cases[i].bcp47, cases[i].expected, predicted[0][i], scores[0][i],
               cases[i].text.size());
  }
  if (errors) {
    for (size_t p = 1; p < prefixes.size(); ++p) {
      fmt::print("\nerrors at {} chars:\n", prefixes[p]);
      for (size_t i = 0; i < cases.size(); ++i) {
        if (predicted[p][i] == cases[i].expected) continue;
        fmt::print("  {} [{}]: {} -> {} {:.3f}\n", cases[i].id, cases[i].bcp47,
                   cases[i].expected, predicted[p][i], scores[p][i]);
      }
    }
  }
  return 0;
}

}  // namespace
}  // namespace needle

int main(int argc, char** argv) {
  try {
    return needle::Main(argc, argv);
  } catch (const std::exception& error) {
    fmt::print(stderr, "lang_id_accuracy: {}\n", error.what());
    return 1;
  }
}
