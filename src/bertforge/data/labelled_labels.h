// Labels of a labelled table (labelled_table.h): the problem, the label list and each row's label values, as
// labelled_files.h describes. Internal to data/.
#pragma once
#include <string>
#include <unordered_map>
#include <vector>

#include "bertforge/data/labelled_table.h"

namespace bertforge::data {

struct LabelPlan {
  ProblemType problem = ProblemType::single_label_classification;
  std::vector<std::string> names;                // class id -> name
  std::unordered_map<std::string, int> ids;      // name -> class id
  std::vector<int> b_to_i;                       // token tasks: the id a word's later pieces take
};

// Types a CSV/TSV table's labels first (pandas' inference, or lists with options.multi_label). With `train`,
// its problem and label_names; otherwise this table's own.
LabelPlan plan_labels(Table& table, const LabelledFileOptions& options, const LabelledExamples* train);

// The class id `cell` (a label, or one item of a list) names in row `row`; an Error for a name not in the plan.
int label_id(const LabelPlan& plan, const Table& table, std::size_t row, const Cell& cell);

// Appends row `row`'s sequence labels (labelled.h's layout for the plan's problem) to `out`.
void row_labels(const LabelPlan& plan, const Table& table, std::size_t row, std::vector<float>& out);

}  // namespace bertforge::data
