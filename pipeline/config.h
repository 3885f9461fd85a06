#pragma once
// TOML configuration that maps one-to-one to code.
//
// Each [section] is read into an Options struct through its Visit() method,
// which names every field once, with its default (the struct's initializer)
// and a one-line help text. The same walk reads the file, checks types and
// ranges, rejects unknown keys, and prints the resolved config, so
// `needle config show` and configs/default.toml cannot drift from the code.
// Errors name the place: `run.toml:14:13: expected an integer for
// min_chars, got string "fifty"` (ninja's style).

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace needle {

// A config the run cannot start with. what() is one line with file:line:col.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads one [section] field by field. Obtained from ConfigFile::Read().
class ConfigSection {
 public:
  struct Impl;
  explicit ConfigSection(Impl* impl) : impl_(impl) {}

  void Field(std::string_view key, bool* value, std::string_view help);
  // Integers are checked against [min, max] (inclusive).
  void Field(std::string_view key, int64_t* value, std::string_view help,
             int64_t min = INT64_MIN, int64_t max = INT64_MAX);
  void Field(std::string_view key, int* value, std::string_view help,
             int min = INT32_MIN, int max = INT32_MAX);
  void Field(std::string_view key, uint64_t* value, std::string_view help,
             uint64_t min = 0, uint64_t max = INT64_MAX);
  // Doubles accept integers too (`min_score = 1`).
  void Field(std::string_view key, double* value, std::string_view help,
             double min = -1e308, double max = 1e308);
  void Field(std::string_view key, std::string* value, std::string_view help);
  void Field(std::string_view key, std::vector<std::string>* value,
             std::string_view help);
  // An inline table of numbers, `min_score_by_lang = { de = 0.5 }`, each
  // checked against [min, max] (inclusive).
  void Field(std::string_view key, std::map<std::string, double>* value,
             std::string_view help, double min = -1e308, double max = 1e308);
  // A string restricted to `choices`.
  void Choice(std::string_view key, std::string* value,
              std::initializer_list<std::string_view> choices,
              std::string_view help);
  // A calendar date, written as a TOML date (2027-06-01) or the string
  // "2027-06-01"; kept as "YYYY-MM-DD", or "" while unset.
  void Date(std::string_view key, std::string* value, std::string_view help);

  // An array of tables, one [[section.key]] per element, each read by
  // Item::Visit as a section of its own: the same type, range and
  // unknown-key checks, with errors at the element's own lines. The resolved
  // config lists the elements after the section's other keys; with none, a
  // commented-out default Item still shows every key with its help.
  template <class Item>
  void Tables(std::string_view key, std::vector<Item>* items,
              std::string_view help) {
    const size_t count = BeginTables(key, help);
    if (count != kAbsent) items->assign(count, Item());
    for (size_t i = 0; i < items->size(); ++i) {
      ConfigSection element = BeginElement(i);
      (*items)[i].Visit(element);
      EndElement();
    }
    if (items->empty()) {
      Item example;
      ConfigSection element = BeginElement(kExample);
      example.Visit(element);
      EndElement();
    }
  }

  // "file:line:col" of `key` in this section (or array element) when the
  // file sets it; else of the section or element itself; else the file. For
  // checks that involve several keys, made after Visit() read them.
  std::string Where(std::string_view key = {}) const;

 private:
  static constexpr size_t kAbsent = SIZE_MAX;   // BeginTables: key not set
  static constexpr size_t kExample = SIZE_MAX;  // BeginElement: the example
  // Returns how many elements the file gives `key`, or kAbsent.
  size_t BeginTables(std::string_view key, std::string_view help);
  ConfigSection BeginElement(size_t index);
  void EndElement();

  Impl* impl_;
};

class ConfigFile {
 public:
  // Parses `path`. Throws ConfigError on unreadable files and TOML syntax
  // errors, with the position toml++ reports.
  static ConfigFile Load(const std::string& path);
  // No file: every section takes its defaults.
  static ConfigFile Empty();
  // Parses TOML text kept elsewhere (a resolved config in run.json or
  // report.json); `path` names it in errors and in path().
  static ConfigFile Parse(std::string_view text, const std::string& path);

  ConfigFile(ConfigFile&&) noexcept;
  ConfigFile& operator=(ConfigFile&&) noexcept;
  ~ConfigFile();

  // Reads [name] into `options` (keys absent from the file keep their
  // defaults) and appends the resolved section to resolved_toml(). Throws
  // ConfigError on a wrong type, a value out of range or an unknown key.
  template <class Options>
  void Read(std::string_view name, std::string_view title, Options* options) {
    ConfigSection section = BeginSection(name, title);
    options->Visit(section);
    EndSection();
  }

  // Throws ConfigError for the first top-level section that no Read()
  // consumed and that is not in `also_allowed` (sections of stages that are
  // registered but not in the pipeline).
  void CheckNoUnknownSections(const std::vector<std::string>& also_allowed,
                              const std::vector<std::string>& all_known) const;

  // "file:line:col" of [section].key (or of its index-th array element),
  // or of the section, or just the file when neither is in the file: for
  // errors found after reading, such as an unknown stage name.
  std::string Where(std::string_view section, std::string_view key,
                    size_t index = SIZE_MAX) const;

  const std::string& path() const;
  // The resolved config: every section read so far with every key, one
  // help comment above each. Valid TOML.
  const std::string& resolved_toml() const;
  // xxh3-64 of resolved_toml(), as 16 hex digits.
  std::string hash() const;

  struct State;  // public only so that ConfigSection's reader can name it

 private:
  explicit ConfigFile(std::unique_ptr<State> state);
  ConfigSection BeginSection(std::string_view name, std::string_view title);
  void EndSection();

  std::unique_ptr<State> state_;
};

// Edit-distance suggestion for "did you mean": the closest of `candidates`
// within distance 3, or "" when none is that close.
std::string ClosestName(std::string_view name,
                        const std::vector<std::string>& candidates);

}  // namespace needle
