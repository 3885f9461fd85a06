#include "pipeline/review.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <toml++/toml.h>
#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <queue>
#include <set>
#include <stdexcept>

#include "pipeline/atomic_file.h"
#include "pipeline/byte_source.h"
#include "pipeline/config.h"
#include "pipeline/csv.h"
#include "pipeline/json_text.h"
#include "pipeline/report.h"

namespace needle {
namespace {

namespace fs = std::filesystem;

constexpr double kZ95 = 1.959963984540054;  // the normal's 97.5% quantile
constexpr size_t kExcerptChars = 500;       // code points, not bytes
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The columns every sheet has; a numeric signal of the same name gets no
// column of its own, so the header names each column once.
const std::vector<std::string>& FixedColumns() {
  static const auto* columns = new std::vector<std::string>{
      "id", "tier", "lang", "shard", "excerpt", "verdict", "note"};
  return *columns;
}

std::string ReviewDir(const std::string& out_dir) {
  return out_dir + "/review";
}
std::string SamplePath(const std::string& out_dir) {
  return ReviewDir(out_dir) + "/sample.jsonl";
}
std::string VerdictsPath(const std::string& out_dir) {
  return ReviewDir(out_dir) + "/verdicts.jsonl";
}

// What review needs to know about a run.
struct RunInfo {
  std::vector<std::string> tiers;  // loosest first
  std::string text_field = "text";
  std::string id_field = "id";
};

// Reads only config.resolved and the tiers' names from run.json.
RunInfo ReadRunInfo(const std::string& out_dir) {
  const std::string path = out_dir + "/run.json";
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (const auto error = parser.load(path).get(root)) {
    throw std::runtime_error(fmt::format("{}: cannot read run.json: {}", path,
                                         simdjson::error_message(error)));
  }
  std::string_view resolved;
  if (root["config"]["resolved"].get(resolved)) {
    throw std::runtime_error(
        fmt::format("{}: not a needle run.json: no config.resolved", path));
  }
  RunInfo info;
  try {
    const toml::table config = toml::parse(resolved);
    if (!config["tiers"]["enabled"].value_or(false)) {
      throw std::runtime_error(fmt::format(
          "{} was run without tiers: review needs [tiers] enabled = true",
          out_dir));
    }
    info.text_field = config["input"]["text_field"].value_or(info.text_field);
    info.id_field = config["input"]["id_field"].value_or(info.id_field);
  } catch (const toml::parse_error& error) {
    throw std::runtime_error(fmt::format("{}: config.resolved is not TOML: {}",
                                         path, error.description()));
  }
  simdjson::dom::array tiers;
  if (root["tiers"].get(tiers)) {
    throw std::runtime_error(fmt::format("{}: no tiers array", path));
  }
  for (simdjson::dom::element tier : tiers) {
    std::string_view name;
    if (tier["name"].get(name)) {
      throw std::runtime_error(fmt::format("{}: a tier without a name", path));
    }
    info.tiers.emplace_back(name);
  }
  return info;
}

// Calls `on_line(index, line)` for each line of a (possibly compressed)
// JSONL file; index counts every line from 0, blank ones included.
template <class OnLine>
void ForEachNumberedLine(const std::string& path, OnLine on_line) {
  uint64_t index = 0;
  ForEachLine(path, [&](std::string_view line) { on_line(index++, line); });
}

// One tier file: OUT/tiers/<tier>/<shard>.jsonl[.gz|.zst].
struct TierFile {
  std::string path;
  std::string shard;  // the path under the tier's folder, no extension
};

// The files of the tiers from `first` up, in tier order, then name order.
std::vector<TierFile> MemberFiles(const std::string& out_dir,
                                  const RunInfo& run, size_t first) {
  std::vector<TierFile> files;
  for (size_t t = first; t < run.tiers.size(); ++t) {
    const fs::path folder = fs::path(out_dir) / "tiers" / run.tiers[t];
    if (!fs::is_directory(folder)) continue;  // a tier nobody reached
    std::vector<TierFile> tier_files;
    for (const auto& entry : fs::recursive_directory_iterator(folder)) {
      std::string shard = fs::relative(entry.path(), folder).string();
      if (!entry.is_regular_file()) continue;
      size_t cut = std::string::npos;
      for (const std::string_view extension :
           {".jsonl", ".jsonl.gz", ".jsonl.zst"}) {
        if (shard.ends_with(extension)) cut = shard.size() - extension.size();
      }
      if (cut == std::string::npos) continue;  // .tmp leftovers and the like
      shard.resize(cut);
      tier_files.push_back({entry.path().string(), std::move(shard)});
    }
    std::sort(
        tier_files.begin(), tier_files.end(),
        [](const TierFile& a, const TierFile& b) { return a.path < b.path; });
    files.insert(files.end(), tier_files.begin(), tier_files.end());
  }
  return files;
}

// The fields of one tier line that review reads.
struct TierLine {
  std::string id;
  std::string tier;
  std::string lang = "und";
  std::string text;
  std::vector<std::pair<std::string, double>> signals;  // numeric, by name
};

// Reads a tier line; only the id and language unless `everything`.
TierLine ParseTierLine(simdjson::dom::parser& parser, const RunInfo& run,
                       std::string_view line, bool everything,
                       const std::string& path, uint64_t index) {
  simdjson::dom::object object;
  if (auto error = parser.parse(line.data(), line.size()).get(object)) {
    throw std::runtime_error(fmt::format("{}:{}: not a JSON object: {}", path,
                                         index + 1,
                                         simdjson::error_message(error)));
  }
  TierLine doc;
  simdjson::dom::element id;
  if (object[run.id_field].get(id)) {
    throw std::runtime_error(
        fmt::format("{}:{}: no id field '{}'", path, index + 1, run.id_field));
  }
  // As the parser reads ids: a string as is, anything else as JSON text.
  std::string_view id_text;
  doc.id = id.get(id_text) ? simdjson::minify(id) : std::string(id_text);
  simdjson::dom::object needle;
  simdjson::dom::object signals;
  const bool has_needle = !object["needle"].get(needle);
  const bool has_signals = has_needle && !needle["signals"].get(signals);
  std::string_view text;
  if (has_signals && !signals["lang"].get(text)) doc.lang = text;
  if (!everything) return doc;
  if (!object[run.text_field].get(text)) doc.text = text;
  if (has_needle && !needle["tier"].get(text)) doc.tier = text;
  if (has_signals) {
    for (auto field : signals) {
      double value = 0;
      if (!field.value.is_number() || field.value.get(value)) continue;
      doc.signals.emplace_back(std::string(field.key), value);
    }
  }
  std::sort(doc.signals.begin(), doc.signals.end());
  return doc;
}

// Integers as integers, anything else as JSON writes it (6 decimals).
std::string FormatNumber(double value) {
  if (std::isfinite(value) && value == std::round(value) &&
      std::abs(value) < 9e15) {
    return fmt::format("{}", static_cast<int64_t>(value));
  }
  std::string out;
  AppendJsonNumber(value, &out);
  return out;
}

// The first kExcerptChars code points of `text`, "…" marking a cut. A
// spreadsheet would run an excerpt starting with = + - @ as a formula, so
// such an excerpt gets a leading apostrophe (OWASP's advice for CSV).
std::string Excerpt(std::string_view text) {
  size_t chars = 0;
  size_t end = 0;
  while (end < text.size() && chars < kExcerptChars) {
    ++end;
    while (end < text.size() && (text[end] & 0xC0) == 0x80) ++end;
    ++chars;
  }
  std::string excerpt(text.substr(0, end));
  if (end < text.size()) excerpt += "\xE2\x80\xA6";
  if (!excerpt.empty() &&
      std::string_view("=+-@").find(excerpt[0]) != std::string_view::npos) {
    excerpt.insert(0, "'");
  }
  return excerpt;
}

// A sampled document, as OUT/review/sample.jsonl keeps it.
struct SampleEntry {
  std::string id, tier, lang, shard;
  std::vector<std::pair<std::string, double>> signals;  // numeric, by name
};

std::string SampleEntryJson(const SampleEntry& entry) {
  std::string out = "{\"id\":";
  AppendJsonString(entry.id, &out);
  out += ",\"tier\":";
  AppendJsonString(entry.tier, &out);
  out += ",\"lang\":";
  AppendJsonString(entry.lang, &out);
  out += ",\"shard\":";
  AppendJsonString(entry.shard, &out);
  out += ",\"signals\":{";
  for (size_t i = 0; i < entry.signals.size(); ++i) {
    if (i > 0) out += ',';
    AppendJsonString(entry.signals[i].first, &out);
    out += ':' + FormatNumber(entry.signals[i].second);
  }
  out += "}}";
  return out;
}

std::map<std::string, SampleEntry> ReadSample(const std::string& out_dir) {
  std::map<std::string, SampleEntry> sample;
  const std::string path = SamplePath(out_dir);
  if (!fs::exists(path)) return sample;
  simdjson::dom::parser parser;
  ForEachNumberedLine(path, [&](uint64_t index, std::string_view line) {
    if (line.empty()) return;
    simdjson::dom::element doc;
    SampleEntry entry;
    std::string_view id, tier, lang, shard;
    simdjson::dom::object signals;
    if (parser.parse(line.data(), line.size()).get(doc) || doc["id"].get(id) ||
        doc["tier"].get(tier) || doc["lang"].get(lang) ||
        doc["shard"].get(shard) || doc["signals"].get(signals)) {
      throw std::runtime_error(
          fmt::format("{}:{}: not a review sample entry", path, index + 1));
    }
    entry.id = id;
    entry.tier = tier;
    entry.lang = lang;
    entry.shard = shard;
    for (auto field : signals) {
      double value = 0;
      if (!field.value.get(value)) {
        entry.signals.emplace_back(std::string(field.key), value);
      }
    }
    sample[entry.id] = std::move(entry);
  });
  return sample;
}

// A candidate for the sample: ordered by its key, then by position so the
// order is total even when two ids hash alike.
struct Candidate {
  uint64_t key = 0;
  uint32_t file = 0;
  uint64_t line = 0;
  auto operator<=>(const Candidate&) const = default;
};

// One language's members and the `count` smallest candidates among them.
struct StratumDraw {
  uint64_t members = 0;
  std::priority_queue<Candidate> smallest;  // a max-heap: top is evicted
};

// The sheet: fixed columns, numeric signals by name, verdict and note.
std::string SheetCsv(const std::vector<SampleEntry>& rows,
                     const std::vector<std::string>& excerpts) {
  std::set<std::string> columns;
  for (const SampleEntry& row : rows) {
    for (const auto& signal : row.signals) columns.insert(signal.first);
  }
  for (const std::string& fixed : FixedColumns()) columns.erase(fixed);
  // A byte-order mark, so that Excel reads the sheet as UTF-8.
  std::string csv = "\xEF\xBB\xBF";
  auto append_row = [&csv](const std::vector<std::string>& fields) {
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) csv += ',';
      AppendCsvField(fields[i], &csv);
    }
    csv += "\r\n";
  };
  std::vector<std::string> header = {"id", "tier", "lang", "shard", "excerpt"};
  header.insert(header.end(), columns.begin(), columns.end());
  header.insert(header.end(), {"verdict", "note"});
  append_row(header);
  for (size_t r = 0; r < rows.size(); ++r) {
    const SampleEntry& row = rows[r];
    std::vector<std::string> fields = {row.id, row.tier, row.lang, row.shard,
                                       excerpts[r]};
    for (const std::string& column : columns) {
      const auto it =
          std::lower_bound(row.signals.begin(), row.signals.end(), column,
                           [](const auto& signal, const std::string& name) {
                             return signal.first < name;
                           });
      const bool found = it != row.signals.end() && it->first == column;
      fields.push_back(found ? FormatNumber(it->second) : "");
    }
    fields.insert(fields.end(), {"", ""});
    append_row(fields);
  }
  return csv;
}

size_t TierIndex(const RunInfo& run, const std::string& tier) {
  const auto it = std::find(run.tiers.begin(), run.tiers.end(), tier);
  if (it != run.tiers.end()) return static_cast<size_t>(it - run.tiers.begin());
  std::string message = fmt::format("the run has no tier '{}'", tier);
  const std::string suggestion = ClosestName(tier, run.tiers);
  if (!suggestion.empty())
    message += fmt::format("; did you mean '{}'?", suggestion);
  message += fmt::format(" (its tiers: {})", fmt::join(run.tiers, ", "));
  throw std::runtime_error(message);
}

struct Verdict {
  std::string id;
  bool keep = false;
  std::string note;
  std::string sheet;  // the file name it was imported from
};

std::map<std::string, Verdict> ReadVerdicts(const std::string& out_dir) {
  std::map<std::string, Verdict> verdicts;
  const std::string path = VerdictsPath(out_dir);
  if (!fs::exists(path)) return verdicts;
  simdjson::dom::parser parser;
  ForEachNumberedLine(path, [&](uint64_t index, std::string_view line) {
    if (line.empty()) return;
    simdjson::dom::element doc;
    std::string_view id, verdict, note, sheet;
    if (parser.parse(line.data(), line.size()).get(doc) || doc["id"].get(id) ||
        doc["verdict"].get(verdict) || doc["note"].get(note) ||
        doc["sheet"].get(sheet) || (verdict != "keep" && verdict != "drop")) {
      throw std::runtime_error(
          fmt::format("{}:{}: not a review verdict", path, index + 1));
    }
    verdicts[std::string(id)] = {std::string(id), verdict == "keep",
                                 std::string(note), std::string(sheet)};
  });
  return verdicts;
}

std::string VerdictsJsonl(const std::map<std::string, Verdict>& verdicts) {
  std::string out;
  for (const auto& [id, verdict] : verdicts) {
    out += "{\"id\":";
    AppendJsonString(id, &out);
    out += verdict.keep ? ",\"verdict\":\"keep\"" : ",\"verdict\":\"drop\"";
    out += ",\"note\":";
    AppendJsonString(verdict.note, &out);
    out += ",\"sheet\":";
    AppendJsonString(verdict.sheet, &out);
    out += "}\n";
  }
  return out;
}

std::string Trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

std::string Lowercase(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

// Checks the sheet row by row. Fills `verdicts` (only rows with one) and
// returns the errors, each "<line>: message" keyed by line for sorting.
std::vector<std::pair<size_t, std::string>> ReadSheet(
    std::string text, const std::map<std::string, SampleEntry>& sample,
    const std::string& sheet_name, std::vector<Verdict>* verdicts) {
  std::vector<std::pair<size_t, std::string>> errors;
  CsvReader reader(std::move(text));
  CsvRecord header;
  if (!reader.Next(&header)) {
    if (!reader.error().empty()) {
      return {{reader.error_line(), reader.error()}};
    }
    return {{1, "the sheet is empty; expected a header with id and verdict"}};
  }
  std::map<std::string, size_t> columns;
  for (size_t i = 0; i < header.fields.size(); ++i) {
    const std::string name = Lowercase(Trimmed(header.fields[i]));
    if (!columns.emplace(name, i).second && !name.empty()) {
      errors.emplace_back(header.line,
                          fmt::format("column '{}' appears twice", name));
    }
  }
  for (const char* required : {"id", "verdict"}) {
    if (!columns.contains(required)) {
      errors.emplace_back(
          header.line, fmt::format("no '{}' column in the header (columns: {})",
                                   required, fmt::join(header.fields, ", ")));
    }
  }
  if (!errors.empty()) return errors;
  const size_t id_column = columns["id"];
  const size_t verdict_column = columns["verdict"];
  const auto note_column = columns.find("note");

  std::map<std::string, size_t> first_line;  // id -> line it was first on
  CsvRecord record;
  while (reader.Next(&record)) {
    const bool blank = std::all_of(
        record.fields.begin(), record.fields.end(),
        [](const std::string& field) { return Trimmed(field).empty(); });
    if (blank) continue;  // an empty row between rows
    // In errors, the spreadsheet's row beside the file's line: a record
    // spans several lines when its excerpt does.
    const std::string row = fmt::format("row {}", record.row);
    if (record.fields.size() != header.fields.size()) {
      errors.emplace_back(
          record.line,
          fmt::format("{} has {} fields, the header {} (a stray separator "
                      "or quote?)",
                      row, record.fields.size(), header.fields.size()));
      continue;
    }
    for (size_t i = 0; i < record.fields.size(); ++i) {
      const std::string& field = record.fields[i];
      if (!simdjson::validate_utf8(field.data(), field.size())) {
        errors.emplace_back(record.field_lines[i],
                            fmt::format("{}: field {} is not UTF-8 (save the "
                                        "sheet as \"CSV UTF-8\")",
                                        row, i + 1));
      }
    }
    const std::string id = Trimmed(record.fields[id_column]);
    const size_t id_line = record.field_lines[id_column];
    const std::string verdict_text =
        Lowercase(Trimmed(record.fields[verdict_column]));
    const size_t verdict_line = record.field_lines[verdict_column];
    if (id.empty()) {
      errors.emplace_back(id_line, fmt::format("{} has no id", row));
      continue;
    }
    if (!sample.contains(id)) {
      errors.emplace_back(
          id_line, fmt::format("{}: id '{}' is not in this run's review "
                               "sample (review/sample.jsonl); a sheet of "
                               "another run?",
                               row, id));
      continue;
    }
    if (const auto [it, first] = first_line.emplace(id, id_line); !first) {
      errors.emplace_back(
          id_line, fmt::format("{}: id '{}' again (first on line {})", row, id,
                               it->second));
      continue;
    }
    if (verdict_text.empty()) continue;  // not reviewed
    if (verdict_text != "keep" && verdict_text != "drop") {
      errors.emplace_back(
          verdict_line,
          fmt::format("{}: verdict '{}' is not keep, drop or blank", row,
                      Trimmed(record.fields[verdict_column])));
      continue;
    }
    Verdict& verdict = verdicts->emplace_back();
    verdict.id = id;
    verdict.keep = verdict_text == "keep";
    if (note_column != columns.end()) {
      verdict.note = Trimmed(record.fields[note_column->second]);
    }
    verdict.sheet = sheet_name;
  }
  if (!reader.error().empty()) {
    errors.emplace_back(reader.error_line(), reader.error());
  }
  std::stable_sort(
      errors.begin(), errors.end(),
      [](const auto& a, const auto& b) { return a.first < b.first; });
  return errors;
}

ReviewSummary Summarize(const RunInfo& run,
                        const std::map<std::string, SampleEntry>& sample,
                        const std::map<std::string, Verdict>& verdicts) {
  ReviewSummary summary;
  for (const std::string& name : run.tiers) {
    summary.tiers.emplace_back().name = name;
  }
  // Per signal: the kept values, then the dropped ones.
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>>
      values;
  for (const auto& [id, verdict] : verdicts) {
    const auto entry = sample.find(id);
    if (entry == sample.end()) continue;  // cannot happen: import checks
    ++summary.reviewed;
    ++(verdict.keep ? summary.keep : summary.drop);
    const auto tier =
        std::find(run.tiers.begin(), run.tiers.end(), entry->second.tier);
    if (tier == run.tiers.end()) {
      ++summary.unknown_tier;
    } else {
      // A member of its highest tier and of every tier below it.
      for (auto t = run.tiers.begin(); t <= tier; ++t) {
        TierPrecision& precision = summary.tiers[t - run.tiers.begin()];
        ++precision.reviewed;
        precision.keep += verdict.keep;
      }
    }
    for (const auto& [name, value] : entry->second.signals) {
      auto& [kept, dropped] = values[name];
      (verdict.keep ? kept : dropped).push_back(value);
    }
  }
  for (TierPrecision& tier : summary.tiers) {
    if (tier.reviewed == 0) {
      tier.precision = tier.low = tier.high = kNaN;
      continue;
    }
    tier.precision =
        static_cast<double>(tier.keep) / static_cast<double>(tier.reviewed);
    const Interval interval = WilsonInterval(tier.keep, tier.reviewed);
    tier.low = interval.low;
    tier.high = interval.high;
  }
  auto mean = [](const std::vector<double>& v) {
    if (v.empty()) return kNaN;
    double sum = 0;
    for (const double x : v) sum += x;
    return sum / static_cast<double>(v.size());
  };
  for (auto& [name, groups] : values) {
    SignalSeparation& signal = summary.signals.emplace_back();
    signal.name = name;
    signal.kept = groups.first.size();
    signal.dropped = groups.second.size();
    signal.kept_mean = mean(groups.first);
    signal.dropped_mean = mean(groups.second);
    signal.auc = RankAuc(groups.first, groups.second);
  }
  // Most separating first; a signal without an AUC last.
  auto strength = [](const SignalSeparation& s) {
    return std::isnan(s.auc) ? -1.0 : std::abs(s.auc - 0.5);
  };
  std::stable_sort(summary.signals.begin(), summary.signals.end(),
                   [&](const SignalSeparation& a, const SignalSeparation& b) {
                     return strength(a) > strength(b);
                   });
  return summary;
}

void AppendNumberOrNull(double value, std::string* out) {
  if (std::isnan(value)) {
    out->append("null");
  } else {
    AppendJsonNumber(value, out);
  }
}

std::string Cell(double value, int decimals) {
  return std::isnan(value) ? "-" : fmt::format("{:.{}f}", value, decimals);
}

}  // namespace

std::string ReviewSummaryJsonPath(const std::string& out_dir) {
  return ReviewDir(out_dir) + "/summary.json";
}

std::vector<size_t> AllocateSample(const std::vector<uint64_t>& sizes,
                                   size_t count) {
  unsigned __int128 total = 0;
  for (const uint64_t size : sizes) total += size;
  std::vector<size_t> allocation(sizes.size(), 0);
  if (total <= count) {
    std::copy(sizes.begin(), sizes.end(), allocation.begin());
    return allocation;
  }
  // Exact quotas count x size / total: integer part, then remainders.
  std::vector<unsigned __int128> remainder(sizes.size());
  size_t given = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    const unsigned __int128 scaled =
        static_cast<unsigned __int128>(count) * sizes[i];
    allocation[i] = static_cast<size_t>(scaled / total);
    remainder[i] = scaled % total;
    given += allocation[i];
  }
  std::vector<size_t> order(sizes.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (remainder[a] != remainder[b]) return remainder[a] > remainder[b];
    return sizes[a] > sizes[b];
  });
  for (size_t k = 0; given < count; ++k, ++given) ++allocation[order[k]];

  const auto strata = static_cast<size_t>(std::count_if(
      sizes.begin(), sizes.end(), [](uint64_t size) { return size > 0; }));
  if (count < strata) return allocation;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] == 0 || allocation[i] > 0) continue;
    // count >= strata and this stratum has none: some stratum has two.
    const auto donor = std::max_element(allocation.begin(), allocation.end());
    --*donor;
    allocation[i] = 1;
  }
  return allocation;
}

Interval WilsonInterval(uint64_t successes, uint64_t trials) {
  if (trials == 0) return {0, 1};
  const auto n = static_cast<double>(trials);
  const double p = static_cast<double>(successes) / n;
  const double z2 = kZ95 * kZ95;
  const double denominator = 1 + z2 / n;
  const double center = (p + z2 / (2 * n)) / denominator;
  const double half =
      kZ95 / denominator * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n));
  return {std::max(0.0, center - half), std::min(1.0, center + half)};
}

double RankAuc(const std::vector<double>& kept,
               const std::vector<double>& dropped) {
  if (kept.empty() || dropped.empty()) return kNaN;
  // Mann-Whitney U from the kept values' mid-ranks in the pooled sample.
  std::vector<std::pair<double, bool>> pooled;
  pooled.reserve(kept.size() + dropped.size());
  for (const double v : kept) pooled.emplace_back(v, true);
  for (const double v : dropped) pooled.emplace_back(v, false);
  std::sort(pooled.begin(), pooled.end());
  double kept_rank_sum = 0;
  for (size_t i = 0; i < pooled.size();) {
    size_t j = i;
    while (j < pooled.size() && pooled[j].first == pooled[i].first) ++j;
    const double mid_rank = static_cast<double>(i + j + 1) / 2;  // 1-based
    for (size_t k = i; k < j; ++k) kept_rank_sum += pooled[k].second * mid_rank;
    i = j;
  }
  const auto n_kept = static_cast<double>(kept.size());
  const auto n_dropped = static_cast<double>(dropped.size());
  return (kept_rank_sum - n_kept * (n_kept + 1) / 2) / (n_kept * n_dropped);
}

ReviewExportResult ExportReviewSheet(const ReviewExportRequest& request) {
  const RunInfo run = ReadRunInfo(request.run_dir);
  const size_t first_tier = TierIndex(run, request.tier);
  const std::vector<TierFile> files =
      MemberFiles(request.run_dir, run, first_tier);
  simdjson::dom::parser parser;

  // Pass 1: each language's members and its `count` smallest keys.
  std::map<std::string, StratumDraw> strata;
  for (uint32_t f = 0; f < files.size(); ++f) {
    ForEachNumberedLine(
        files[f].path, [&](uint64_t index, std::string_view line) {
          if (line.empty()) return;
          const TierLine doc =
              ParseTierLine(parser, run, line, false, files[f].path, index);
          StratumDraw& stratum = strata[doc.lang];
          ++stratum.members;
          stratum.smallest.push(
              {XXH3_64bits_withSeed(doc.id.data(), doc.id.size(), request.seed),
               f, index});
          if (stratum.smallest.size() > request.count) stratum.smallest.pop();
        });
  }
  ReviewExportResult result;
  std::vector<uint64_t> sizes;
  for (const auto& [lang, stratum] : strata) {
    sizes.push_back(stratum.members);
    result.members += stratum.members;
  }
  const std::vector<size_t> allocation = AllocateSample(sizes, request.count);
  std::vector<Candidate> chosen;
  size_t s = 0;
  for (auto& [lang, stratum] : strata) {
    std::vector<Candidate> smallest;
    for (; !stratum.smallest.empty(); stratum.smallest.pop()) {
      smallest.push_back(stratum.smallest.top());
    }
    std::reverse(smallest.begin(), smallest.end());
    chosen.insert(chosen.end(), smallest.begin(),
                  smallest.begin() + static_cast<ptrdiff_t>(allocation[s]));
    result.strata.push_back({lang, stratum.members, allocation[s]});
    result.sampled += allocation[s++];
  }

  // Pass 2: the chosen documents, read from the files that hold them.
  std::sort(chosen.begin(), chosen.end(),
            [](const Candidate& a, const Candidate& b) {
              return std::tie(a.file, a.line) < std::tie(b.file, b.line);
            });
  std::map<std::pair<uint32_t, uint64_t>, std::pair<SampleEntry, std::string>>
      documents;
  for (size_t c = 0; c < chosen.size();) {
    const uint32_t f = chosen[c].file;
    ForEachNumberedLine(
        files[f].path, [&](uint64_t index, std::string_view line) {
          if (c == chosen.size() || chosen[c].file != f ||
              chosen[c].line != index) {
            return;
          }
          TierLine doc =
              ParseTierLine(parser, run, line, true, files[f].path, index);
          SampleEntry entry{doc.id, doc.tier, doc.lang, files[f].shard,
                            std::move(doc.signals)};
          documents[{f, index}] = {std::move(entry), Excerpt(doc.text)};
          ++c;
        });
    if (c < chosen.size() && chosen[c].file == f) {
      throw std::runtime_error(
          fmt::format("{}: shorter than a moment ago; is a run writing {}?",
                      files[f].path, request.run_dir));
    }
  }
  // The sheet in key order: random, so no language or shard comes first.
  std::sort(chosen.begin(), chosen.end());
  std::vector<SampleEntry> rows;
  std::vector<std::string> excerpts;
  std::map<std::string, SampleEntry> sample = ReadSample(request.run_dir);
  std::set<std::string> ids;
  for (const Candidate& candidate : chosen) {
    auto& [entry, excerpt] = documents.at({candidate.file, candidate.line});
    if (!ids.insert(entry.id).second) {
      throw std::runtime_error(fmt::format(
          "two sampled documents have the id '{}'; review keys verdicts by "
          "[input].id_field '{}', which must be unique",
          entry.id, run.id_field));
    }
    sample[entry.id] = entry;
    rows.push_back(std::move(entry));
    excerpts.push_back(std::move(excerpt));
  }
  WriteFileAtomically(request.sheet_path, SheetCsv(rows, excerpts));
  std::string jsonl;
  for (const auto& [id, entry] : sample) jsonl += SampleEntryJson(entry) + "\n";
  WriteFileAtomically(SamplePath(request.run_dir), jsonl);
  return result;
}

ReviewImportResult ImportReviewSheet(const std::string& run_dir,
                                     const std::string& sheet_path,
                                     const std::string& sheet_name) {
  const RunInfo run = ReadRunInfo(run_dir);
  const std::map<std::string, SampleEntry> sample = ReadSample(run_dir);
  if (sample.empty()) {
    throw std::runtime_error(fmt::format(
        "{} has no review sample yet: run `needle review export` first",
        run_dir));
  }
  const std::string sheet = ReadDecompressed(sheet_path);

  ReviewImportResult result;
  std::vector<Verdict> verdicts;
  for (const auto& [line, message] :
       ReadSheet(sheet, sample, sheet_name, &verdicts)) {
    result.errors.push_back(
        fmt::format("{}:{}: {}", sheet_name, line, message));
  }
  if (!result.errors.empty()) return result;

  std::map<std::string, Verdict> stored = ReadVerdicts(run_dir);
  for (Verdict& verdict : verdicts) stored[verdict.id] = std::move(verdict);
  result.verdicts_read = verdicts.size();
  result.verdicts_stored = stored.size();
  WriteFileAtomically(VerdictsPath(run_dir), VerdictsJsonl(stored));
  result.summary = Summarize(run, sample, stored);
  WriteFileAtomically(ReviewSummaryJsonPath(run_dir),
                      ReviewSummaryJson(result.summary));
  result.report_rewritten = RewriteReport(run_dir);
  return result;
}

std::string ReviewSummaryJson(const ReviewSummary& summary) {
  std::string out = fmt::format(
      "{{\n\"format\":\"{}\",\n"
      "\"about\":\"Human verdicts (keep/drop) on random samples of this "
      "run's tiers, from `needle review export` and `needle review "
      "import`. A reviewed document counts for its highest tier and every "
      "tier below it. Every reviewed document weighs alike: one export is "
      "nearly self-weighting (proportional allocation by language), but "
      "reviews of samples of several tiers lean a lower tier's estimate "
      "toward the higher tiers' documents.\",\n"
      "\"verdicts_file\":\"review/verdicts.jsonl\",\"sample_file\":"
      "\"review/sample.jsonl\",\"confidence\":0.95,\"interval\":\"wilson\",\n"
      "\"reviewed\":{},\"keep\":{},\"drop\":{},\"unknown_tier\":{},\n"
      "\"unknown_tier_about\":\"Reviewed documents whose tier the run no "
      "longer has (re-tuned since the export): in reviewed and in signals, "
      "in no tier.\",\n"
      "\"tiers_about\":\"Per tier, loosest first (as run.json's tiers): "
      "reviewed members, how many were kept, precision = keep / reviewed, "
      "and its 95% Wilson score interval [precision_low, precision_high]; "
      "null when none was reviewed.\",\n"
      "\"tiers\":[",
      kReviewSummaryFormat, summary.reviewed, summary.keep, summary.drop,
      summary.unknown_tier);
  for (size_t t = 0; t < summary.tiers.size(); ++t) {
    const TierPrecision& tier = summary.tiers[t];
    out += t ? ",\n " : "\n ";
    out += "{\"name\":";
    AppendJsonString(tier.name, &out);
    fmt::format_to(std::back_inserter(out), ",\"reviewed\":{},\"keep\":{}",
                   tier.reviewed, tier.keep);
    out += ",\"precision\":";
    AppendNumberOrNull(tier.precision, &out);
    out += ",\"precision_low\":";
    AppendNumberOrNull(tier.low, &out);
    out += ",\"precision_high\":";
    AppendNumberOrNull(tier.high, &out);
    out += '}';
  }
  out +=
      "],\n\"signals_about\":\"Which signals separate kept from dropped "
      "documents, over every reviewed document with the signal: the mean "
      "among kept and among dropped, and auc = P(a random kept document's "
      "value > a random dropped one's), ties counting half; 0.5 means no "
      "separation, below 0.5 dropped documents score higher. Sorted by "
      "|auc - 0.5|, most separating first; null when a group is empty.\",\n"
      "\"signals\":[";
  for (size_t i = 0; i < summary.signals.size(); ++i) {
    const SignalSeparation& signal = summary.signals[i];
    out += i ? ",\n " : "\n ";
    out += "{\"name\":";
    AppendJsonString(signal.name, &out);
    fmt::format_to(std::back_inserter(out), ",\"kept\":{},\"dropped\":{}",
                   signal.kept, signal.dropped);
    out += ",\"kept_mean\":";
    AppendNumberOrNull(signal.kept_mean, &out);
    out += ",\"dropped_mean\":";
    AppendNumberOrNull(signal.dropped_mean, &out);
    out += ",\"auc\":";
    AppendNumberOrNull(signal.auc, &out);
    out += '}';
  }
  out += "]\n}\n";
  return out;
}

std::optional<ReviewSummary> ReadReviewSummary(const std::string& out_dir) {
  const std::string path = ReviewSummaryJsonPath(out_dir);
  if (!fs::exists(path)) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view format;
  if (parser.load(path).get(root) || root["format"].get(format) ||
      format != kReviewSummaryFormat) {
    throw std::runtime_error(
        fmt::format("{}: not a {} summary", path, kReviewSummaryFormat));
  }
  auto fail = [&](std::string_view what) {
    return std::runtime_error(fmt::format("{}: {}", path, what));
  };
  // A null (nothing to estimate from) reads back as NaN, as it was.
  auto number = [&](simdjson::dom::element object, const char* key) {
    simdjson::dom::element value;
    double number = 0;
    if (object[key].get(value)) throw fail(fmt::format("no {}", key));
    if (value.is_null()) return kNaN;
    if (value.get(number)) throw fail(fmt::format("{} is not a number", key));
    return number;
  };
  auto count = [&](simdjson::dom::element object, const char* key) {
    uint64_t value = 0;
    if (object[key].get(value)) throw fail(fmt::format("no count {}", key));
    return value;
  };
  ReviewSummary summary;
  summary.reviewed = count(root, "reviewed");
  summary.keep = count(root, "keep");
  summary.drop = count(root, "drop");
  summary.unknown_tier = count(root, "unknown_tier");
  simdjson::dom::array array;
  if (root["tiers"].get(array)) throw fail("no tiers");
  for (simdjson::dom::element element : array) {
    TierPrecision& tier = summary.tiers.emplace_back();
    std::string_view name;
    if (element["name"].get(name)) throw fail("a tier without a name");
    tier.name = name;
    tier.reviewed = count(element, "reviewed");
    tier.keep = count(element, "keep");
    tier.precision = number(element, "precision");
    tier.low = number(element, "precision_low");
    tier.high = number(element, "precision_high");
  }
  if (root["signals"].get(array)) throw fail("no signals");
  for (simdjson::dom::element element : array) {
    SignalSeparation& signal = summary.signals.emplace_back();
    std::string_view name;
    if (element["name"].get(name)) throw fail("a signal without a name");
    signal.name = name;
    signal.kept = count(element, "kept");
    signal.dropped = count(element, "dropped");
    signal.kept_mean = number(element, "kept_mean");
    signal.dropped_mean = number(element, "dropped_mean");
    signal.auc = number(element, "auc");
  }
  return summary;
}

std::string ReviewSummaryText(const ReviewSummary& summary) {
  std::string out =
      fmt::format("{:<16} {:>8} {:>6} {:>9}  {}\n", "tier", "reviewed", "keep",
                  "precision", "95% interval");
  for (const TierPrecision& tier : summary.tiers) {
    const std::string interval =
        tier.reviewed == 0
            ? "-"
            : fmt::format("[{:.3f}, {:.3f}]", tier.low, tier.high);
    out +=
        fmt::format("{:<16} {:>8} {:>6} {:>9}  {}\n", tier.name, tier.reviewed,
                    tier.keep, Cell(tier.precision, 3), interval);
  }
  if (summary.signals.empty()) return out;
  out += fmt::format("\n{:<28} {:>12} {:>12} {:>6}\n", "signal", "mean keep",
                     "mean drop", "AUC");
  for (const SignalSeparation& signal : summary.signals) {
    out += fmt::format("{:<28} {:>12} {:>12} {:>6}\n", signal.name,
                       Cell(signal.kept_mean, 3), Cell(signal.dropped_mean, 3),
                       Cell(signal.auc, 3));
  }
  return out;
}

}  // namespace needle
