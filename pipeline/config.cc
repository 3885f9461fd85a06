#include "pipeline/config.h"

#include <fmt/format.h>
#include <toml++/toml.h>
#include <xxhash.h>

#include <algorithm>
#include <limits>
#include <set>

#include "pipeline/civil_date.h"
#include "pipeline/json_text.h"

namespace needle {

struct ConfigFile::State {
  std::string path;
  toml::table root;
  std::string resolved;
  std::set<std::string, std::less<>> sections_read;
  std::unique_ptr<ConfigSection::Impl> open_section;
};

struct ConfigSection::Impl {
  const ConfigFile::State* file;
  std::string name;  // "budget"; "budget.runs" for a [[budget.runs]] element
  const toml::table* table;       // nullptr when the file has no such section
  std::vector<std::string> keys;  // every key Visit() named, in order
  std::string* resolved;
  bool is_element = false;
  // The Tables() call in progress, and the element it is reading.
  const toml::array* array = nullptr;
  std::string array_key;
  std::unique_ptr<Impl> element;
  std::string element_text;  // the element's resolved keys
  bool example = false;      // the element is the commented-out example
  // Resolved [[name.key]] elements: TOML puts them after the plain keys.
  std::string tables;
};

namespace {

std::string Position(const std::string& path, const toml::source_region& at) {
  return fmt::format("{}:{}:{}", path, at.begin.line, at.begin.column);
}

// How a value the user wrote reads in an error message.
std::string Describe(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: {
      std::string quoted;
      AppendJsonString(node.as_string()->get(), &quoted);
      return "string " + quoted;
    }
    case toml::node_type::integer:
      return fmt::format("integer {}", node.as_integer()->get());
    case toml::node_type::floating_point:
      return fmt::format("float {}", node.as_floating_point()->get());
    case toml::node_type::boolean:
      return fmt::format("boolean {}", node.as_boolean()->get());
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date or time";
  }
}

std::string TomlString(std::string_view text) {
  // JSON's escapes are a subset of TOML basic-string escapes.
  std::string out;
  AppendJsonString(text, &out);
  return out;
}

std::string TomlFloat(double value) {
  std::string text = fmt::format("{}", value);
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return text;
}

void ThrowOnUnknownKey(const ConfigSection::Impl& section) {
  if (section.table == nullptr) return;
  for (auto&& [key, node] : *section.table) {
    if (std::find(section.keys.begin(), section.keys.end(), key.str()) !=
        section.keys.end()) {
      continue;
    }
    const std::string shown = section.is_element ? "[[" + section.name + "]]"
                                                 : "[" + section.name + "]";
    std::string message = fmt::format(
        "{}: unknown key '{}' in {}",
        Position(section.file->path, key.source()), key.str(), shown);
    const std::string suggestion = ClosestName(key.str(), section.keys);
    if (!suggestion.empty()) {
      message += fmt::format("; did you mean '{}'?", suggestion);
    } else {
      message += "; expected one of: ";
      for (size_t i = 0; i < section.keys.size(); ++i) {
        message += (i ? ", " : "") + section.keys[i];
      }
    }
    throw ConfigError(message);
  }
}

}  // namespace

ConfigFile::ConfigFile(std::unique_ptr<State> state)
    : state_(std::move(state)) {}
ConfigFile::ConfigFile(ConfigFile&&) noexcept = default;
ConfigFile& ConfigFile::operator=(ConfigFile&&) noexcept = default;
ConfigFile::~ConfigFile() = default;

ConfigFile ConfigFile::Load(const std::string& path) {
  auto state = std::make_unique<State>();
  state->path = path;
  try {
    state->root = toml::parse_file(path);
  } catch (const toml::parse_error& error) {
    const auto& at = error.source();
    if (at.begin.line == 0) {  // toml++ reports I/O failures without a place
      throw ConfigError(fmt::format("{}: {}", path, error.description()));
    }
    throw ConfigError(
        fmt::format("{}: {}", Position(path, at), error.description()));
  }
  return ConfigFile(std::move(state));
}

ConfigFile ConfigFile::Parse(std::string_view text, const std::string& path) {
  auto state = std::make_unique<State>();
  state->path = path;
  try {
    state->root = toml::parse(text, path);
  } catch (const toml::parse_error& error) {
    throw ConfigError(fmt::format("{}: {}", Position(path, error.source()),
                                  error.description()));
  }
  return ConfigFile(std::move(state));
}

ConfigFile ConfigFile::Empty() {
  auto state = std::make_unique<State>();
  state->path = "<defaults>";
  return ConfigFile(std::move(state));
}

const std::string& ConfigFile::path() const { return state_->path; }
const std::string& ConfigFile::resolved_toml() const {
  return state_->resolved;
}

std::string ConfigFile::hash() const {
  return fmt::format(
      "{:016x}", XXH3_64bits(state_->resolved.data(), state_->resolved.size()));
}

ConfigSection ConfigFile::BeginSection(std::string_view name,
                                       std::string_view title) {
  auto impl = std::make_unique<ConfigSection::Impl>();
  impl->file = state_.get();
  impl->name = std::string(name);
  impl->resolved = &state_->resolved;
  impl->table = nullptr;
  if (const toml::node* node = state_->root.get(name)) {
    impl->table = node->as_table();
    if (impl->table == nullptr) {
      throw ConfigError(fmt::format("{}: expected a table for [{}], got {}",
                                    Position(state_->path, node->source()),
                                    name, Describe(*node)));
    }
  }
  if (!state_->resolved.empty()) state_->resolved += '\n';
  state_->resolved += fmt::format("# {}\n[{}]\n", title, name);
  state_->sections_read.insert(std::string(name));
  state_->open_section = std::move(impl);
  return ConfigSection(state_->open_section.get());
}

void ConfigFile::EndSection() {
  const ConfigSection::Impl& section = *state_->open_section;
  ThrowOnUnknownKey(section);
  state_->resolved += section.tables;
  state_->open_section.reset();
}

void ConfigFile::CheckNoUnknownSections(
    const std::vector<std::string>& also_allowed,
    const std::vector<std::string>& all_known) const {
  for (auto&& [key, node] : state_->root) {
    if (state_->sections_read.contains(key.str())) continue;
    if (std::find(also_allowed.begin(), also_allowed.end(), key.str()) !=
        also_allowed.end()) {
      continue;
    }
    std::string message =
        fmt::format("{}: unknown section [{}]",
                    Position(state_->path, key.source()), key.str());
    const std::string suggestion = ClosestName(key.str(), all_known);
    if (!suggestion.empty()) {
      message += fmt::format("; did you mean [{}]?", suggestion);
    }
    throw ConfigError(message);
  }
}

namespace {

// Looks `key` up, records it as known and writes its help line. Returns the
// user's node, or nullptr when the key is absent.
const toml::node* Lookup(ConfigSection::Impl& s, std::string_view key,
                         std::string_view help) {
  s.keys.emplace_back(key);
  *s.resolved += fmt::format("# {}\n", help);
  return s.table != nullptr ? s.table->get(key) : nullptr;
}

[[noreturn]] void Expected(const ConfigSection::Impl& s, std::string_view key,
                           const toml::node& node, std::string_view what) {
  throw ConfigError(fmt::format("{}: expected {} for {}, got {}",
                                Position(s.file->path, node.source()), what,
                                key, Describe(node)));
}

template <class Int>
void ReadInteger(ConfigSection::Impl& s, std::string_view key, Int* value,
                 std::string_view help, Int min, Int max) {
  const toml::node* node = Lookup(s, key, help);
  if (node != nullptr) {
    const bool no_max = static_cast<__int128>(max) >= INT64_MAX;
    std::string what = fmt::format("an integer from {} to {}", min, max);
    if (no_max && min == std::numeric_limits<Int>::min()) what = "an integer";
    if (no_max && min == 0) what = "a non-negative integer";
    const auto* integer = node->as_integer();
    if (integer == nullptr) Expected(s, key, *node, what);
    const int64_t v = integer->get();
    // Wide enough for every int64_t and uint64_t bound.
    const __int128 wide = v;
    if (wide < static_cast<__int128>(min) ||
        wide > static_cast<__int128>(max)) {
      Expected(s, key, *node, what);
    }
    *value = static_cast<Int>(v);
  }
  *s.resolved += fmt::format("{} = {}\n", key, *value);
}

}  // namespace

void ConfigSection::Field(std::string_view key, bool* value,
                          std::string_view help) {
  const toml::node* node = Lookup(*impl_, key, help);
  if (node != nullptr) {
    const auto* boolean = node->as_boolean();
    if (boolean == nullptr) Expected(*impl_, key, *node, "true or false");
    *value = boolean->get();
  }
  *impl_->resolved += fmt::format("{} = {}\n", key, *value);
}

void ConfigSection::Field(std::string_view key, int64_t* value,
                          std::string_view help, int64_t min, int64_t max) {
  ReadInteger(*impl_, key, value, help, min, max);
}

void ConfigSection::Field(std::string_view key, int* value,
                          std::string_view help, int min, int max) {
  ReadInteger(*impl_, key, value, help, min, max);
}

void ConfigSection::Field(std::string_view key, uint64_t* value,
                          std::string_view help, uint64_t min, uint64_t max) {
  ReadInteger(*impl_, key, value, help, min, max);
}

namespace {

// Reads a number in [min, max]; `key` names it in the error.
double ReadNumber(const ConfigSection::Impl& s, std::string_view key,
                  const toml::node& node, double min, double max) {
  const std::string what =
      (min == -1e308 && max == 1e308)
          ? std::string("a number")
          : fmt::format("a number from {} to {}", min, max);
  double v;
  if (const auto* f = node.as_floating_point()) {
    v = f->get();
  } else if (const auto* i = node.as_integer()) {
    v = static_cast<double>(i->get());
  } else {
    Expected(s, key, node, what);
  }
  if (!(v >= min && v <= max)) Expected(s, key, node, what);
  return v;
}

}  // namespace

void ConfigSection::Field(std::string_view key, double* value,
                          std::string_view help, double min, double max) {
  const toml::node* node = Lookup(*impl_, key, help);
  if (node != nullptr) *value = ReadNumber(*impl_, key, *node, min, max);
  *impl_->resolved += fmt::format("{} = {}\n", key, TomlFloat(*value));
}

void ConfigSection::Field(std::string_view key,
                          std::map<std::string, double>* value,
                          std::string_view help, double min, double max) {
  const toml::node* node = Lookup(*impl_, key, help);
  if (node != nullptr) {
    const auto* table = node->as_table();
    if (table == nullptr) {
      Expected(*impl_, key, *node, "a table of numbers, { name = 0.5 }");
    }
    value->clear();
    for (auto&& [name, element] : *table) {
      const std::string full_key = fmt::format("{}.{}", key, name.str());
      (*value)[std::string(name.str())] =
          ReadNumber(*impl_, full_key, element, min, max);
    }
  }
  std::string entries;
  for (const auto& [name, number] : *value) {
    entries += fmt::format("{}{} = {}", entries.empty() ? "" : ", ",
                           TomlString(name), TomlFloat(number));
  }
  *impl_->resolved += entries.empty()
                          ? fmt::format("{} = {{}}\n", key)
                          : fmt::format("{} = {{ {} }}\n", key, entries);
}

void ConfigSection::Field(std::string_view key, std::string* value,
                          std::string_view help) {
  const toml::node* node = Lookup(*impl_, key, help);
  if (node != nullptr) {
    const auto* string = node->as_string();
    if (string == nullptr) Expected(*impl_, key, *node, "a string");
    *value = string->get();
  }
  *impl_->resolved += fmt::format("{} = {}\n", key, TomlString(*value));
}

void ConfigSection::Field(std::string_view key, std::vector<std::string>* value,
                          std::string_view help) {
  const toml::node* node = Lookup(*impl_, key, help);
  if (node != nullptr) {
    const auto* array = node->as_array();
    if (array == nullptr) Expected(*impl_, key, *node, "an array of strings");
    value->clear();
    for (const toml::node& element : *array) {
      const auto* string = element.as_string();
      if (string == nullptr) {
        Expected(*impl_, key, element, "an array of strings");
      }
      value->push_back(string->get());
    }
  }
  std::string list;
  for (size_t i = 0; i < value->size(); ++i) {
    list += (i ? ", " : "") + TomlString((*value)[i]);
  }
  *impl_->resolved += fmt::format("{} = [{}]\n", key, list);
}

void ConfigSection::Choice(std::string_view key, std::string* value,
                           std::initializer_list<std::string_view> choices,
                           std::string_view help) {
  std::string choice_list;
  for (std::string_view choice : choices) {
    choice_list += (choice_list.empty() ? "" : ", ") + std::string(choice);
  }
  const toml::node* node =
      Lookup(*impl_, key, fmt::format("{} One of: {}.", help, choice_list));
  if (node != nullptr) {
    const auto* string = node->as_string();
    const std::string what = "one of " + choice_list;
    if (string == nullptr) Expected(*impl_, key, *node, what);
    if (std::find(choices.begin(), choices.end(), string->get()) ==
        choices.end()) {
      Expected(*impl_, key, *node, what);
    }
    *value = string->get();
  }
  *impl_->resolved += fmt::format("{} = {}\n", key, TomlString(*value));
}

void ConfigSection::Date(std::string_view key, std::string* value,
                         std::string_view help) {
  const toml::node* node = Lookup(*impl_, key, help);
  if (node != nullptr) {
    const auto* string = node->as_string();
    if (const auto* date = node->as_date()) {
      const toml::date& d = date->get();
      *value = fmt::format("{:04}-{:02}-{:02}", static_cast<int>(d.year),
                           static_cast<int>(d.month), static_cast<int>(d.day));
    } else if (string != nullptr &&
               (string->get().empty() || DaysFromDate(string->get()))) {
      *value = string->get();
    } else {
      Expected(*impl_, key, *node, "a date YYYY-MM-DD");
    }
  }
  // Unquoted: a TOML date, so the resolved config reads back as written.
  *impl_->resolved += value->empty() ? fmt::format("{} = \"\"\n", key)
                                     : fmt::format("{} = {}\n", key, *value);
}

size_t ConfigSection::BeginTables(std::string_view key, std::string_view help) {
  Impl& s = *impl_;
  s.keys.emplace_back(key);
  s.tables += fmt::format("# {}\n", help);
  s.array_key = std::string(key);
  s.array = nullptr;
  const toml::node* node = s.table != nullptr ? s.table->get(key) : nullptr;
  if (node == nullptr) return kAbsent;
  const std::string what =
      fmt::format("an array of tables, [[{}.{}]]", s.name, key);
  s.array = node->as_array();
  if (s.array == nullptr) Expected(s, key, *node, what);
  for (const toml::node& element : *s.array) {
    if (!element.is_table()) Expected(s, key, element, what);
  }
  return s.array->size();
}

ConfigSection ConfigSection::BeginElement(size_t index) {
  Impl& s = *impl_;
  auto element = std::make_unique<Impl>();
  element->file = s.file;
  element->name = s.name + "." + s.array_key;
  element->is_element = true;
  element->table = nullptr;
  if (index != kExample && s.array != nullptr && index < s.array->size()) {
    element->table = s.array->get(index)->as_table();
  }
  s.example = index == kExample;
  s.element_text = fmt::format("[[{}]]\n", element->name);
  element->resolved = &s.element_text;
  s.element = std::move(element);
  return ConfigSection(s.element.get());
}

void ConfigSection::EndElement() {
  Impl& s = *impl_;
  ThrowOnUnknownKey(*s.element);
  s.element_text += s.element->tables;
  if (s.example) {
    for (size_t start = 0; start < s.element_text.size();) {
      const size_t end = s.element_text.find('\n', start);
      s.tables += "# " + s.element_text.substr(start, end - start + 1);
      start = end + 1;
    }
  } else {
    s.tables += s.element_text;
  }
  s.element.reset();
}

std::string ConfigSection::Where(std::string_view key) const {
  const Impl& s = *impl_;
  if (s.table == nullptr) return s.file->path;
  const toml::node* node = key.empty() ? nullptr : s.table->get(key);
  return Position(s.file->path,
                  node != nullptr ? node->source() : s.table->source());
}

std::string ConfigFile::Where(std::string_view section, std::string_view key,
                              size_t index) const {
  const toml::node* table = state_->root.get(section);
  if (table == nullptr) return state_->path;
  const toml::node* node =
      table->is_table() ? table->as_table()->get(key) : nullptr;
  if (node == nullptr) return Position(state_->path, table->source());
  if (const auto* array = node->as_array(); array && index < array->size()) {
    node = array->get(index);
  }
  return Position(state_->path, node->source());
}

std::string ClosestName(std::string_view name,
                        const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = 4;
  for (const std::string& candidate : candidates) {
    // Levenshtein distance, one row at a time.
    std::vector<size_t> row(candidate.size() + 1);
    for (size_t j = 0; j <= candidate.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= name.size(); ++i) {
      size_t diagonal = row[0];
      row[0] = i;
      for (size_t j = 1; j <= candidate.size(); ++j) {
        const size_t above = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                           diagonal + (name[i - 1] != candidate[j - 1])});
        diagonal = above;
      }
    }
    if (row.back() < best_distance) {
      best_distance = row.back();
      best = candidate;
    }
  }
  return best;
}

}  // namespace needle
