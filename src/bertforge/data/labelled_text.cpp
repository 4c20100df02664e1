// The text containers of labelled_table.h: GLUE's TSV files, CSV/TSV, JSONL and CoNLL.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "bertforge/data/labelled_table.h"
#include "bertforge/data/records.h"
#include "bertforge/util/error.h"

namespace bertforge::data {

namespace {

constexpr std::size_t kNoLimit = std::numeric_limits<std::size_t>::max() / 2;

// Lines without their '\r' and, on the first, a UTF-8 byte-order mark (MRPC's train.tsv starts with one).
void for_each_line(const std::string& path, const std::function<void(std::string_view, std::uint64_t)>& fn) {
  for_each_text_line(path, kNoLimit, [&](std::string_view line, std::uint64_t lineno) {
    if (lineno == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    fn(line, lineno);
  }, {});
}

std::vector<std::string> split(std::string_view line, char delimiter) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= line.size(); ++i)
    if (i == line.size() || line[i] == delimiter) {
      out.emplace_back(line.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "\"" : ", \"") + n + "\"";
  return out;
}

std::size_t index_of(const std::vector<std::string>& columns, const std::string& name, const std::string& path,
                     std::uint64_t line) {
  for (std::size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name) return i;
  fail_at(path, line, "no column \"" + name + "\" (the columns are " + joined(columns) + ")");
}

struct GlueTask {
  const char* name;
  bool header;
  const char *text, *pair, *label;   // the TSV's columns
  const char *hub_text, *hub_pair;   // the columns of HF's glue dataset (run_glue.py's task_to_keys)
  std::vector<std::string> classes;  // empty: regression
};

// HF datasets' glue script (the TSV columns and ClassLabel names) and run_glue.py's task_to_keys.
const std::vector<GlueTask>& glue_tasks() {
  static const std::vector<GlueTask> tasks = {
      {"cola", false, "sentence", "", "label", "sentence", "", {"unacceptable", "acceptable"}},
      {"sst2", true, "sentence", "", "label", "sentence", "", {"negative", "positive"}},
      {"mrpc", true, "#1 String", "#2 String", "Quality", "sentence1", "sentence2", {"not_equivalent", "equivalent"}},
      {"stsb", true, "sentence1", "sentence2", "score", "sentence1", "sentence2", {}},
      {"qqp", true, "question1", "question2", "is_duplicate", "question1", "question2", {"not_duplicate", "duplicate"}},
      {"mnli", true, "sentence1", "sentence2", "gold_label", "premise", "hypothesis",
       {"entailment", "neutral", "contradiction"}},
      {"qnli", true, "question", "sentence", "label", "question", "sentence", {"entailment", "not_entailment"}},
      {"rte", true, "sentence1", "sentence2", "label", "sentence1", "sentence2", {"entailment", "not_entailment"}},
      {"wnli", true, "sentence1", "sentence2", "label", "sentence1", "sentence2", {"not_entailment", "entailment"}},
  };
  return tasks;
}

const GlueTask& glue_task(const std::string& name) {
  std::string choices;
  for (const auto& t : glue_tasks()) {
    if (name == t.name) return t;
    choices += (choices.empty() ? "" : ", ") + std::string(t.name);
  }
  throw Error("unknown GLUE task \"" + name + "\" (choices: " + choices + ")");
}

// As the glue script: a class name, or its id written as a number; stsb's score read as numpy.float32 does.
Cell glue_label(const GlueTask& task, const std::string& label, const std::string& path, std::uint64_t line) {
  char* end = nullptr;
  if (task.classes.empty()) {
    const float score = std::strtof(label.c_str(), &end);
    if (end == label.c_str() || *end)
      fail_at(path, line, "column \"" + std::string(task.label) + "\": \"" + label + "\" is not a number");
    char text[32];
    std::snprintf(text, sizeof text, "%.9g", score);
    return {Cell::real, text, {}};
  }
  for (std::size_t i = 0; i < task.classes.size(); ++i)
    if (label == task.classes[i]) return {Cell::integer, std::to_string(i), {}};
  const long id = std::strtol(label.c_str(), &end, 10);
  if (end == label.c_str() || *end || id < 0 || id >= static_cast<long>(task.classes.size()))
    fail_at(path, line, "column \"" + std::string(task.label) + "\": unknown label \"" + label + "\" (the " +
                            task.name + " labels are " + joined(task.classes) + " or their ids)");
  return {Cell::integer, std::to_string(id), {}};
}

}  // namespace

GlueHubLayout glue_hub_layout(const std::string& task_name) {
  const GlueTask& task = glue_task(task_name);
  return {task.hub_text, task.hub_pair, task.classes};
}

Table read_glue_tsv(const std::string& path, const std::string& task_name) {
  const GlueTask& task = glue_task(task_name);
  Table table{path, {task.text, task.pair, task.label}, {}, {}, task.classes, true};
  const bool pair = *task.pair != 0;
  std::size_t at[3] = {0, 0, 0};  // each role's field + 1; 0: none
  auto locate = [&](const std::vector<std::string>& columns, std::uint64_t lineno) {
    at[kText] = index_of(columns, task.text, path, lineno) + 1;
    at[kPair] = pair ? index_of(columns, task.pair, path, lineno) + 1 : 0;
    at[kLabel] = index_of(columns, task.label, path, lineno) + 1;
  };
  if (!task.header) locate({"source", "label", "original_label", "sentence"}, 0);  // CoLA's layout
  for_each_line(path, [&](std::string_view line, std::uint64_t lineno) {
    if (line.empty()) return;
    auto fields = split(line, '\t');
    if (!at[kText]) return locate(fields, lineno);
    // A row short of a field, or without a label, is left out: the glue script's "corrupted rows".
    for (std::size_t a : at)
      if (a > fields.size()) return;
    if (fields[at[kLabel] - 1].empty()) return;
    std::array<Cell, 3> row;
    row[kText] = {Cell::string, std::move(fields[at[kText] - 1]), {}};
    if (pair) row[kPair] = {Cell::string, std::move(fields[at[kPair] - 1]), {}};
    row[kLabel] = glue_label(task, fields[at[kLabel] - 1], path, lineno);
    table.rows.push_back(std::move(row));
    table.positions.push_back(lineno);
  });
  return table;
}

Table read_conll(const std::string& path) {
  Table table{path, {"tokens", "", "ner_tags"}, {}, {}, {}, true};
  std::array<Cell, 3> sentence;
  std::uint64_t first = 0;
  auto flush = [&] {
    if (sentence[kText].items.empty()) return;
    sentence[kText].kind = sentence[kLabel].kind = Cell::list;
    table.rows.push_back(std::move(sentence));
    table.positions.push_back(first);
    sentence = {};
  };
  for_each_line(path, [&](std::string_view line, std::uint64_t lineno) {
    std::vector<std::string> fields;
    std::istringstream words{std::string(line)};
    for (std::string f; words >> f;) fields.push_back(std::move(f));
    if (fields.empty() || fields[0].rfind("-DOCSTART-", 0) == 0) return flush();
    if (fields.size() < 2)
      fail_at(path, lineno, "\"" + fields[0] + "\" has no tag (a CoNLL line is a word, then its tag last)");
    if (sentence[kText].items.empty()) first = lineno;
    sentence[kText].items.push_back({Cell::string, std::move(fields.front()), {}});
    sentence[kLabel].items.push_back({Cell::string, std::move(fields.back()), {}});
  });
  flush();
  return table;
}

namespace {

Cell json_cell(const nlohmann::ordered_json& v, const std::string& column, const std::string& path,
               std::uint64_t line) {
  using nlohmann::ordered_json;
  switch (v.type()) {
    case ordered_json::value_t::null: return {};
    case ordered_json::value_t::string: return {Cell::string, v.get<std::string>(), {}};
    case ordered_json::value_t::boolean: return {Cell::string, v.get<bool>() ? "True" : "False", {}};
    case ordered_json::value_t::number_integer:
    case ordered_json::value_t::number_unsigned: return {Cell::integer, v.dump(), {}};
    case ordered_json::value_t::number_float: return {Cell::real, v.dump(), {}};
    case ordered_json::value_t::array: {
      Cell list{Cell::list, "", {}};
      for (const auto& item : v) {
        if (item.is_array() || item.is_object())
          fail_at(path, line, "column \"" + column + "\": a list of lists or objects");
        list.items.push_back(json_cell(item, column, path, line));
      }
      return list;
    }
    default: fail_at(path, line, "column \"" + column + "\": an object, not a value or a list");
  }
}

}  // namespace

Table read_jsonl(const std::string& path, const ChooseFn& choose) {
  Table table{path, {}, {}, {}, {}, true};
  bool chosen = false;
  for_each_line(path, [&](std::string_view line, std::uint64_t lineno) {
    if (line.find_first_not_of(" \t") == std::string_view::npos) return;
    auto j = nlohmann::ordered_json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) fail_at(path, lineno, "not a JSON object");
    if (!chosen) {  // the first object's keys, in its order, as HF's json loader sees the columns
      std::vector<std::string> columns;
      for (const auto& item : j.items()) columns.push_back(item.key());
      table.roles = choose(columns, lineno);
      chosen = true;
    }
    std::array<Cell, 3> row;
    const std::string* names[3] = {&table.roles.text, &table.roles.pair, &table.roles.label};
    for (int r = 0; r < 3; ++r) {
      if (names[r]->empty()) continue;
      auto it = j.find(*names[r]);
      if (it != j.end()) row[r] = json_cell(*it, *names[r], path, lineno);
    }
    table.rows.push_back(std::move(row));
    table.positions.push_back(lineno);
  });
  return table;
}

}  // namespace bertforge::data
