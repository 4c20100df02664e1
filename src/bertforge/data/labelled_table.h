// The rows of a fine-tuning file before labels and tokens: what each container's reader (labelled_text.cpp,
// arrow_labelled.cpp) hands to labelled_files.cpp. Internal to data/.
//
// A reader learns the file's columns (header, first JSON objects, Arrow schema), asks `choose` which play the
// text, pair and label roles, and keeps those three cells of every row, typed as the file types them.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bertforge/data/labelled_files.h"

namespace bertforge::data {

// One value as the file gives it. CSV/TSV give strings only (Table::typed false): their label types are
// inferred later, as pandas does.
struct Cell {
  enum Kind : std::uint8_t { missing, integer, real, string, list };
  Kind kind = missing;
  std::string text;                // integer and real as decimal text; a string as is
  std::vector<Cell> items;         // list
};

struct ColumnRoles {
  std::string text, pair, label;   // pair "" = none
};
enum Role { kText, kPair, kLabel };

struct Table {
  std::string path;
  ColumnRoles roles;
  std::vector<std::array<Cell, 3>> rows;  // indexed by Role
  std::vector<std::uint64_t> positions;   // each row's line (text files) or row (Arrow), from 1
  std::vector<std::string> class_names;   // the label's names where the file fixes them (GLUE, ClassLabel)
  bool typed = true;
};

// The roles from a file's columns, in file order: the options' names or the defaults of labelled_files.h.
// A named column that is absent is an Error naming the columns there are (at `line`: the header's).
ColumnRoles choose_columns(const std::vector<std::string>& columns, const LabelledFileOptions& options,
                           const std::string& path, std::uint64_t line);
using ChooseFn = std::function<ColumnRoles(const std::vector<std::string>& columns, std::uint64_t line)>;

Table read_glue_tsv(const std::string& path, const std::string& task_name);
// A GLUE task in HF's own dataset (Parquet files or save_to_disk folders of nyu-mll/glue): the text columns
// run_glue.py's task_to_keys names, the label column "label" holding class ids.
struct GlueHubLayout {
  std::string text, pair;
  std::vector<std::string> classes;  // empty: regression
};
GlueHubLayout glue_hub_layout(const std::string& task_name);
// CSV (delimiter ',') and TSV (delimiter '\t') with a header row, RFC 4180 quoting.
Table read_delimited(const std::string& path, char delimiter, const ChooseFn& choose);
Table read_jsonl(const std::string& path, const ChooseFn& choose);
Table read_conll(const std::string& path);
// Parquet files and HF save_to_disk folders.
Table read_parquet(const std::string& path, const ChooseFn& choose);
Table read_hf_folder(const std::string& dir, const ChooseFn& choose);

}  // namespace bertforge::data
