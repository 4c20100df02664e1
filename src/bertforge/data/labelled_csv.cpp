// CSV and TSV files of labelled_table.h, read as pandas.read_csv reads them for HF's csv loader: a header row,
// RFC 4180 quoting ("" inside quotes is a quote; quoted fields may hold delimiters and newlines), blank lines
// skipped, and the empty field and pandas' other missing-value spellings ("NA", "NaN", "null", ...) missing.
#include <fstream>
#include <iterator>
#include <set>

#include "bertforge/data/labelled_table.h"
#include "bertforge/util/error.h"

namespace bertforge::data {

namespace {

// pandas' default na_values.
bool is_missing(const std::string& field) {
  static const std::set<std::string> na = {"",     "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN",
                                           "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL",
                                           "NaN",  "None", "n/a", "nan", "null"};
  return na.count(field) > 0;
}

class Records {
 public:
  Records(const std::string& path, char delimiter) : path_(path), delimiter_(delimiter) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail_at(path, 0, "cannot open for reading");
    text_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (text_.compare(0, 3, "\xEF\xBB\xBF") == 0) pos_ = 3;
  }

  // The next record that is not a blank line; false at the end. `line` is where it starts.
  bool next(std::vector<std::string>& fields, std::uint64_t& line) {
    while (pos_ < text_.size()) {
      line = line_;
      fields.assign(1, std::string());
      if (!read_fields(fields, line)) continue;  // a blank line
      return true;
    }
    return false;
  }

 private:
  // Reads one record up to and past its line end; false for a blank line.
  bool read_fields(std::vector<std::string>& fields, std::uint64_t start) {
    bool quoted = false, any = false;
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (quoted) {
        if (c == '"' && pos_ < text_.size() && text_[pos_] == '"') {
          fields.back() += '"';
          ++pos_;
        } else if (c == '"') {
          quoted = false;
        } else {
          if (c == '\n') ++line_;
          fields.back() += c;
        }
        continue;
      }
      if (c == '\n' || (c == '\r' && (pos_ == text_.size() || text_[pos_] == '\n'))) {
        if (c == '\r') ++pos_;
        ++line_;
        return any || fields.size() > 1 || !fields.back().empty();
      }
      any = true;
      if (c == delimiter_) fields.emplace_back();
      else if (c == '"' && fields.back().empty()) quoted = true;
      else fields.back() += c;
    }
    if (quoted) fail_at(path_, start, "the file ends inside the quoted field this record starts");
    return any;
  }

  std::string path_, text_;
  char delimiter_;
  std::size_t pos_ = 0;
  std::uint64_t line_ = 1;
};

}  // namespace

Table read_delimited(const std::string& path, char delimiter, const ChooseFn& choose) {
  Table table{path, {}, {}, {}, {}, false};
  Records records(path, delimiter);
  std::vector<std::string> columns, fields;
  std::uint64_t line = 0;
  if (!records.next(columns, line)) fail_at(path, 0, "empty (a header row is needed)");
  table.roles = choose(columns, line);
  std::size_t at[3];
  const std::string* names[3] = {&table.roles.text, &table.roles.pair, &table.roles.label};
  for (int r = 0; r < 3; ++r) {
    at[r] = columns.size();
    for (std::size_t i = 0; i < columns.size(); ++i)
      if (!names[r]->empty() && columns[i] == *names[r]) at[r] = i;
  }
  while (records.next(fields, line)) {
    if (fields.size() > columns.size())
      fail_at(path, line, std::to_string(fields.size()) + " fields, but the header has " +
                              std::to_string(columns.size()));
    std::array<Cell, 3> row;
    for (int r = 0; r < 3; ++r)
      if (at[r] < fields.size() && !is_missing(fields[at[r]])) row[r] = {Cell::string, std::move(fields[at[r]]), {}};
    table.rows.push_back(std::move(row));
    table.positions.push_back(line);
  }
  return table;
}

}  // namespace bertforge::data
