// The label half of labelled_files.h: which problem a table poses, its label list, each row's label ids.
#include "bertforge/data/labelled_labels.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <set>

#include "bertforge/util/error.h"
#include "bertforge/util/strings.h"

namespace bertforge::data {

namespace {

bool parse_integer(const std::string& s, long long& value) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  value = std::strtoll(s.c_str(), &end, 10);
  return *end == 0 && errno == 0 && !std::isspace(static_cast<unsigned char>(s[0]));
}

bool parse_real(const std::string& s, double& value) {
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  char* end = nullptr;
  value = std::strtod(s.c_str(), &end);
  return *end == 0;
}

// CSV/TSV labels are text: typed as pandas types the column (all integers, else all numbers, else text), or
// split at commas where the options say the labels are lists.
void infer_label_types(Table& table, bool multi_label) {
  if (multi_label) {
    for (auto& row : table.rows) {
      Cell& c = row[kLabel];
      if (c.kind == Cell::missing) continue;
      Cell list{Cell::list, "", {}};
      std::size_t start = 0;
      for (std::size_t i = 0; i <= c.text.size(); ++i)
        if (i == c.text.size() || c.text[i] == ',') {
          list.items.push_back({Cell::string, c.text.substr(start, i - start), {}});
          start = i + 1;
        }
      c = std::move(list);
    }
    return;
  }
  bool integers = true, reals = true;
  for (const auto& row : table.rows) {
    const Cell& c = row[kLabel];
    if (c.kind == Cell::missing) continue;
    long long i;
    double d;
    integers = integers && parse_integer(c.text, i);
    reals = reals && parse_real(c.text, d);
  }
  const Cell::Kind kind = integers ? Cell::integer : reals ? Cell::real : Cell::string;
  for (auto& row : table.rows)
    if (row[kLabel].kind != Cell::missing) row[kLabel].kind = kind;
}

[[noreturn]] void fail_row(const Table& t, std::size_t row, const std::string& column, const std::string& what) {
  fail_at(t.path, t.positions[row], "column \"" + column + "\": " + what);
}

// The name a label cell stands for: its ClassLabel name, its integer written plainly, or its text.
std::string name_of(const Table& t, std::size_t row, const Cell& c) {
  if (c.kind == Cell::integer) {
    long long v = 0;
    if (!parse_integer(c.text, v)) fail_row(t, row, t.roles.label, "\"" + c.text + "\" is not an integer");
    if (t.class_names.empty()) return std::to_string(v);
    if (v < 0 || v >= static_cast<long long>(t.class_names.size()))
      fail_row(t, row, t.roles.label, "class id " + c.text + " outside the " +
                                          std::to_string(t.class_names.size()) + " names of its ClassLabel");
    return t.class_names[static_cast<std::size_t>(v)];
  }
  if (c.kind == Cell::string || c.kind == Cell::real) return c.text;
  fail_row(t, row, t.roles.label, c.kind == Cell::missing ? "no label" : "a list where one label was expected");
}

// The cells that name labels: the label itself, or each item of a list label or of a row's tags.
template <class Fn>
void each_label_cell(const Table& t, const Fn& fn) {
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    const Cell& c = t.rows[r][kLabel];
    if (c.kind == Cell::missing) fail_row(t, r, t.roles.label, "no label");
    if (c.kind != Cell::list) fn(r, c);
    for (const Cell& item : c.items) fn(r, item);
  }
}

// run_glue.py's label_list: the training file's labels sorted, integers as numbers (run_classification.py's
// multi-label list: sorted as strings).
std::vector<std::string> label_list(const Table& t, bool as_strings) {
  if (!t.class_names.empty()) return t.class_names;
  std::set<long long> integers;
  std::set<std::string> names;
  each_label_cell(t, [&](std::size_t r, const Cell& c) {
    if (c.kind == Cell::integer && !as_strings) integers.insert(std::stoll(name_of(t, r, c)));
    else names.insert(name_of(t, r, c));
  });
  if (!integers.empty() && !names.empty())
    fail_at(t.path, 0, "column \"" + t.roles.label + "\" mixes numbers and text");
  std::vector<std::string> out;
  for (long long v : integers) out.push_back(std::to_string(v));
  out.insert(out.end(), names.begin(), names.end());
  return out;
}

ProblemType problem_of(const Table& t, bool tokens) {
  if (tokens) return ProblemType::token_classification;
  bool list = false, real = false;
  for (const auto& row : t.rows) {
    list = list || row[kLabel].kind == Cell::list;
    real = real || row[kLabel].kind == Cell::real;
  }
  if (list) return ProblemType::multi_label_classification;
  return real ? ProblemType::regression : ProblemType::single_label_classification;
}

}  // namespace

LabelPlan plan_labels(Table& table, const LabelledFileOptions& options, const LabelledExamples* train) {
  if (!table.typed) infer_label_types(table, options.multi_label);
  LabelPlan plan;
  const bool tokens = options.token_classification;
  plan.problem = train ? train->problem : problem_of(table, tokens);
  if ((plan.problem == ProblemType::token_classification) != tokens)
    throw Error(table.path + ": the training file was " + problem_type_name(plan.problem) +
                ", this one is read as " + (tokens ? "token" : "sequence") + " classification");
  if (plan.problem == ProblemType::regression) return plan;
  plan.names = train ? train->label_names
                     : label_list(table, plan.problem == ProblemType::multi_label_classification);
  for (std::size_t i = 0; i < plan.names.size(); ++i) plan.ids.emplace(plan.names[i], static_cast<int>(i));
  if (plan.problem == ProblemType::token_classification) {
    // run_ner.py's b_to_i_label: a B-X label continues as I-X on a word's later pieces, where I-X exists.
    for (std::size_t i = 0; i < plan.names.size(); ++i) {
      std::string inside = plan.names[i];
      if (inside.rfind("B-", 0) == 0) replace_all(inside, "B-", "I-");
      auto it = plan.ids.find(inside);
      plan.b_to_i.push_back(inside != plan.names[i] && it != plan.ids.end() ? it->second : static_cast<int>(i));
    }
  }
  return plan;
}

int label_id(const LabelPlan& plan, const Table& table, std::size_t row, const Cell& cell) {
  const std::string name = name_of(table, row, cell);
  auto it = plan.ids.find(name);
  if (it == plan.ids.end()) {
    std::string known;
    for (std::size_t i = 0; i < plan.names.size() && i < 20; ++i)
      known += (known.empty() ? "\"" : ", \"") + plan.names[i] + "\"";
    fail_row(table, row, table.roles.label, "unknown label \"" + name + "\" (the training labels are " + known +
                                                 (plan.names.size() > 20 ? ", ..." : "") + ")");
  }
  return it->second;
}

void row_labels(const LabelPlan& plan, const Table& table, std::size_t row, std::vector<float>& out) {
  const Cell& c = table.rows[row][kLabel];
  if (c.kind == Cell::missing) fail_row(table, row, table.roles.label, "no label");
  if (plan.problem == ProblemType::regression) {
    double v = 0;
    if (c.kind == Cell::list || !parse_real(c.text, v))
      fail_row(table, row, table.roles.label, "\"" + c.text + "\" is not a number (the task is regression)");
    out.push_back(static_cast<float>(v));
  } else if (plan.problem == ProblemType::multi_label_classification) {
    const std::size_t base = out.size();
    out.resize(base + plan.names.size(), 0.0f);
    if (c.kind != Cell::list) out[base + label_id(plan, table, row, c)] = 1.0f;
    for (const Cell& item : c.items) out[base + label_id(plan, table, row, item)] = 1.0f;
  } else {
    if (c.kind == Cell::list) fail_row(table, row, table.roles.label, "a list, but the training labels are single");
    out.push_back(static_cast<float>(label_id(plan, table, row, c)));
  }
}

}  // namespace bertforge::data
