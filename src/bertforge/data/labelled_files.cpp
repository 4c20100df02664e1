// read_labelled (labelled_files.h): pick the reader, the columns and the labels, then tokenize the rows in
// chunks on a thread pool, appended in file order.
#include "bertforge/data/labelled_files.h"

#include <algorithm>
#include <thread>

#include "bertforge/data/labelled_labels.h"
#include "bertforge/data/labelled_table.h"
#include "bertforge/data/records.h"
#include "bertforge/text/utf8.h"
#include "bertforge/util/error.h"
#include "bertforge/util/ignore_index.h"
#include "bertforge/util/ordered_pool.h"

namespace bertforge::data {

namespace {

bool has(const std::vector<std::string>& columns, const std::string& name) {
  return std::find(columns.begin(), columns.end(), name) != columns.end();
}

bool ends_with(const std::string& s, const char* tail) {
  const std::string t(tail);
  return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}

// run_ner.py: "tokens" else the first column, "ner_tags" else the second.
ColumnRoles token_columns(const std::vector<std::string>& columns, const LabelledFileOptions& o) {
  ColumnRoles roles;
  roles.text = !o.text_column.empty() ? o.text_column : has(columns, "tokens") ? "tokens" : columns[0];
  roles.label = !o.label_column.empty()    ? o.label_column
                : has(columns, "ner_tags") ? "ner_tags"
                : columns.size() > 1       ? columns[1]
                                           : "ner_tags";
  return roles;
}

// run_glue.py: sentence1 and sentence2 if both exist, else the first two columns that are not the label,
// else the first alone.
ColumnRoles sequence_columns(const std::vector<std::string>& columns, const LabelledFileOptions& o) {
  ColumnRoles roles;
  roles.label = o.label_column.empty() ? "label" : o.label_column;
  std::vector<std::string> others;
  for (const auto& c : columns)
    if (c != roles.label) others.push_back(c);
  if (!o.text_column.empty()) {
    roles.text = o.text_column;
  } else if (has(columns, "sentence1") && has(columns, "sentence2")) {
    roles.text = "sentence1";
    roles.pair = "sentence2";
  } else if (!others.empty()) {
    roles.text = others[0];
    if (others.size() > 1) roles.pair = others[1];
  }
  if (!o.text_pair_column.empty()) roles.pair = o.text_pair_column == "-" ? "" : o.text_pair_column;
  return roles;
}

Table read_table(const std::string& path, const LabelledFileOptions& options);

// A GLUE task from a file of another format: the columns and label names of HF's glue dataset, as run_glue.py
// reads them with --task_name.
Table read_glue_table(const std::string& path, const LabelledFileOptions& options) {
  if (options.token_classification) throw Error("a GLUE task (" + options.task_name + ") is not a token task");
  if (ends_with(path, ".tsv")) return read_glue_tsv(path, options.task_name);
  const GlueHubLayout layout = glue_hub_layout(options.task_name);
  LabelledFileOptions o = options;
  o.task_name.clear();
  if (o.text_column.empty()) o.text_column = layout.text;
  if (o.text_pair_column.empty()) o.text_pair_column = layout.pair.empty() ? "-" : layout.pair;
  Table table = read_table(path, o);
  if (table.class_names.empty()) table.class_names = layout.classes;
  // The task, not the file, says what a label is: stsb's a number, the others' a class name or its id.
  for (auto& row : table.rows) {
    Cell& label = row[kLabel];
    if (label.kind == Cell::missing || label.kind == Cell::list) continue;
    const bool id = label.text.find_first_not_of("0123456789") == std::string::npos && !label.text.empty();
    label.kind = layout.classes.empty() ? Cell::real : id ? Cell::integer : Cell::string;
  }
  table.typed = true;
  return table;
}

Table read_table(const std::string& path, const LabelledFileOptions& options) {
  ChooseFn choose = [&](const std::vector<std::string>& columns, std::uint64_t line) {
    return choose_columns(columns, options, path, line);
  };
  if (!options.task_name.empty()) return read_glue_table(path, options);
  if (ends_with(path, ".csv")) return read_delimited(path, ',', choose);
  if (ends_with(path, ".tsv")) return read_delimited(path, '\t', choose);
  switch (container_of(path)) {
    case Container::jsonl: return read_jsonl(path, choose);
    case Container::parquet: return read_parquet(path, choose);
    case Container::hf: return read_hf_folder(path, choose);
    case Container::text: break;
  }
  if (options.token_classification) return read_conll(path);
  throw Error(path + ": not a labelled file bertforge reads (.csv, .tsv, .jsonl, .json, .parquet, an HF dataset "
                     "folder, or a GLUE TSV file with --task_name)");
}

// HF reads text files as UTF-8 and fails on anything else; bertforge's tokenizer would quietly cope.
void check_text(const Table& t, std::size_t row, const std::string& column, const Cell& c) {
  if (c.kind == Cell::missing) fail_at(t.path, t.positions[row], "column \"" + column + "\": no text");
  if (c.kind != Cell::string) fail_at(t.path, t.positions[row], "column \"" + column + "\": not text");
  const std::size_t bad = text::find_invalid_utf8(c.text);
  if (bad != std::string::npos)
    fail_at(t.path, t.positions[row], "column \"" + column + "\": invalid UTF-8 at byte " + std::to_string(bad + 1));
}

const std::string& text_of(const Table& t, std::size_t row, Role role) {
  const Cell& c = t.rows[row][role];
  check_text(t, row, role == kText ? t.roles.text : t.roles.pair, c);
  return c.text;
}

// One chunk's rows, encoded, with their labels in labelled.h's layout.
struct Chunk {
  std::vector<text::Encoding> rows;
  std::vector<float> labels;
};

// run_ner.py's tokenize_and_align_labels for one row: each word tokenized alone, its tag on its first piece.
void encode_words(const Table& t, std::size_t row, const LabelPlan& plan, const text::Tokenizer& tokenizer,
                  const LabelledFileOptions& o, Chunk& out) {
  const Cell &words = t.rows[row][kText], &tags = t.rows[row][kLabel];
  if (words.kind != Cell::list)
    fail_at(t.path, t.positions[row], "column \"" + t.roles.text + "\": not a list of words");
  if (tags.kind != Cell::list || tags.items.size() != words.items.size())
    fail_at(t.path, t.positions[row], "column \"" + t.roles.label + "\": " +
                                          (tags.kind == Cell::list ? std::to_string(tags.items.size()) : "no") +
                                          " tags for " + std::to_string(words.items.size()) + " words");
  std::vector<std::int32_t> ids;
  std::vector<float> labels;
  text::Words scratch;
  for (std::size_t w = 0; w < words.items.size(); ++w) {
    check_text(t, row, t.roles.text, words.items[w]);
    const std::size_t first = ids.size();
    tokenizer.encode_into(words.items[w].text, ids, scratch);
    const int id = label_id(plan, t, row, tags.items[w]);
    for (std::size_t k = first; k < ids.size(); ++k)
      labels.push_back(k == first ? id : o.label_all_tokens ? plan.b_to_i[id] : static_cast<float>(kIgnoreIndex));
  }
  text::EncodeOptions e;
  e.truncation = text::Truncation::longest_first;
  e.max_length = o.max_seq_length;
  out.rows.push_back(tokenizer.prepare_for_model(std::move(ids), nullptr, e));
  const std::size_t kept = out.rows.back().input_ids.size() - 2;
  out.labels.push_back(kIgnoreIndex);
  out.labels.insert(out.labels.end(), labels.begin(), labels.begin() + kept);
  out.labels.push_back(kIgnoreIndex);
}

Chunk encode_chunk(const Table& t, std::size_t begin, std::size_t end, const LabelPlan& plan,
                   const text::Tokenizer& tokenizer, const LabelledFileOptions& o) {
  Chunk chunk;
  text::EncodeOptions e;
  e.truncation = text::Truncation::longest_first;
  e.max_length = o.max_seq_length;
  for (std::size_t r = begin; r < end; ++r) {
    if (plan.problem == ProblemType::token_classification) {
      encode_words(t, r, plan, tokenizer, o, chunk);
      continue;
    }
    if (t.roles.pair.empty()) chunk.rows.push_back(tokenizer.encode_plus(text_of(t, r, kText), e));
    else chunk.rows.push_back(tokenizer.encode_plus(text_of(t, r, kText), text_of(t, r, kPair), e));
    row_labels(plan, t, r, chunk.labels);
  }
  return chunk;
}

void append(LabelledExamples& out, Chunk& chunk) {
  for (const auto& e : chunk.rows) {
    out.input_ids.insert(out.input_ids.end(), e.input_ids.begin(), e.input_ids.end());
    out.token_type_ids.insert(out.token_type_ids.end(), e.token_type_ids.begin(), e.token_type_ids.end());
    out.offsets.push_back(out.input_ids.size());
  }
  out.labels.insert(out.labels.end(), chunk.labels.begin(), chunk.labels.end());
}

}  // namespace

ColumnRoles choose_columns(const std::vector<std::string>& columns, const LabelledFileOptions& options,
                           const std::string& path, std::uint64_t line) {
  if (columns.empty()) fail_at(path, line, "no columns");
  ColumnRoles roles = options.token_classification ? token_columns(columns, options)
                                                   : sequence_columns(columns, options);
  std::string there;
  for (const auto& c : columns) there += (there.empty() ? "\"" : ", \"") + c + "\"";
  if (roles.text.empty()) fail_at(path, line, "no text column (the columns are " + there + ")");
  for (const std::string* name : {&roles.text, &roles.pair, &roles.label})
    if (!name->empty() && !has(columns, *name))
      fail_at(path, line, "no column \"" + *name + "\" (the columns are " + there + ")");
  return roles;
}

LabelledExamples read_labelled(const std::string& path, const text::Tokenizer& tokenizer,
                               const LabelledFileOptions& options, const LabelledExamples* train) {
  if (options.max_seq_length < 2)
    throw Error("max_seq_length " + std::to_string(options.max_seq_length) + " leaves no room for [CLS] and [SEP]");
  Table table = read_table(path, options);
  if (table.rows.empty()) fail_at(path, 0, "no rows");
  const LabelPlan plan = plan_labels(table, options, train);
  LabelledExamples out;
  out.problem = plan.problem;
  out.label_names = plan.names;
  const int threads = options.threads > 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  constexpr std::size_t kChunkRows = 1024;
  OrderedPool pool(threads, 2 * threads);
  for (std::size_t begin = 0; begin < table.rows.size(); begin += kChunkRows) {
    const std::size_t end = std::min(table.rows.size(), begin + kChunkRows);
    auto chunk = std::make_shared<Chunk>();
    pool.submit([&, begin, end, chunk] { *chunk = encode_chunk(table, begin, end, plan, tokenizer, options); },
                [&out, chunk] { append(out, *chunk); });
  }
  pool.finish();
  return out;
}

}  // namespace bertforge::data
