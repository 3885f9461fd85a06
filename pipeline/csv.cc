#include "pipeline/csv.h"

#include <fmt/format.h>

#include <utility>

namespace needle {
namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

// ';' or tab when the first line has one of them and no comma.
char SniffSeparator(std::string_view text) {
  const std::string_view first = text.substr(0, text.find_first_of("\r\n"));
  if (first.find(',') != std::string_view::npos) return ',';
  if (first.find(';') != std::string_view::npos) return ';';
  if (first.find('\t') != std::string_view::npos) return '\t';
  return ',';
}

}  // namespace

void AppendCsvField(std::string_view field, std::string* out) {
  const bool quoted =
      field.find_first_of(",\"\r\n") != std::string_view::npos ||
      (!field.empty() && (field.front() == ' ' || field.back() == ' '));
  if (!quoted) {
    out->append(field);
    return;
  }
  out->push_back('"');
  for (const char c : field) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

CsvReader::CsvReader(std::string text) : text_(std::move(text)) {
  if (text_.starts_with(kByteOrderMark)) text_.erase(0, kByteOrderMark.size());
  separator_ = SniffSeparator(text_);
}

bool CsvReader::Fail(size_t line, std::string message) {
  error_ = std::move(message);
  error_line_ = line;
  at_ = text_.size();
  return false;
}

bool CsvReader::Next(CsvRecord* record) {
  if (at_ >= text_.size() || !error_.empty()) return false;
  record->fields.clear();
  record->field_lines.clear();
  record->line = line_;
  record->row = ++row_;
  // Consumes one record terminator (CRLF, LF or CR) at at_, if any.
  auto end_of_record = [&] {
    if (text_[at_] == '\r' && at_ + 1 < text_.size() &&
        text_[at_ + 1] == '\n') {
      ++at_;
    }
    ++at_;
    ++line_;
  };
  while (true) {
    std::string& field = record->fields.emplace_back();
    record->field_lines.push_back(line_);
    if (at_ < text_.size() && text_[at_] == '"') {
      const size_t opened = line_;
      ++at_;
      while (true) {
        if (at_ >= text_.size()) {
          return Fail(opened,
                      "a quoted field opened on this line is never "
                      "closed (a quote missing or one too many)");
        }
        const char c = text_[at_++];
        if (c == '"') {
          if (at_ < text_.size() && text_[at_] == '"') {
            field.push_back('"');
            ++at_;
            continue;
          }
          break;
        }
        // A CRLF inside a field counts as one line break, as outside.
        if (c == '\n' && !(at_ >= 2 && text_[at_ - 2] == '\r')) ++line_;
        if (c == '\r') ++line_;
        field.push_back(c);
      }
      if (at_ < text_.size() && text_[at_] != separator_ &&
          text_[at_] != '\r' && text_[at_] != '\n') {
        return Fail(line_, fmt::format("text after the closing quote of field "
                                       "{} (quotes inside a field are doubled)",
                                       record->fields.size()));
      }
    } else {
      while (at_ < text_.size() && text_[at_] != separator_ &&
             text_[at_] != '\r' && text_[at_] != '\n') {
        if (text_[at_] == '"') {
          return Fail(line_, fmt::format("a quote inside unquoted field {} "
                                         "(quote the whole field and double "
                                         "the quote)",
                                         record->fields.size()));
        }
        field.push_back(text_[at_++]);
      }
    }
    if (at_ >= text_.size()) return true;
    if (text_[at_] == separator_) {
      ++at_;
      continue;
    }
    end_of_record();
    return true;
  }
}

}  // namespace needle
