#pragma once
// RFC 4180 CSV, for sheets that people fill in a spreadsheet.
//
// Writing: a field is quoted when it holds a comma, a quote, CR or LF, or
// starts or ends with a space (which some spreadsheets would trim); quotes
// are doubled; records end with CRLF, as the RFC says.
//
// Reading is forgiving where spreadsheets differ and strict where a mistake
// would misplace a value: records may end with CRLF, LF or a lone CR (Excel
// for Mac), a leading UTF-8 byte-order mark is skipped, and the separator is
// ';' or a tab when the first line has one of those and no comma (Excel
// writes ';' in locales with a decimal comma). A quote inside an unquoted
// field, text after a closing quote, or a quoted field still open at the
// end of the text is an error with its line: the fields after it cannot be
// trusted.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace needle {

// Appends `field` to `*out`, quoted when it must be (see above).
void AppendCsvField(std::string_view field, std::string* out);

struct CsvRecord {
  std::vector<std::string> fields;
  // The line (from 1) each field starts on: a quoted field may hold line
  // breaks, so a record can span several lines of the file.
  std::vector<size_t> field_lines;
  size_t line = 0;  // where the record starts
  size_t row = 0;   // its number among records, from 1: a spreadsheet's row
};

// Reads records from a whole sheet, which it keeps (sheets are small).
class CsvReader {
 public:
  explicit CsvReader(std::string text);

  // The next record; false at the end of the text or at a syntax error
  // (then error() is set and error_line() is where it is).
  bool Next(CsvRecord* record);

  const std::string& error() const { return error_; }
  size_t error_line() const { return error_line_; }
  char separator() const { return separator_; }

 private:
  bool Fail(size_t line, std::string message);

  std::string text_;
  size_t at_ = 0;
  size_t line_ = 1;
  size_t row_ = 0;
  char separator_ = ',';
  std::string error_;
  size_t error_line_ = 0;
};

}  // namespace needle
