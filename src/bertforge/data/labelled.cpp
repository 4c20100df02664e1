// ProblemType names and LabelledExamples' shape (labelled.h).
#include "bertforge/data/labelled.h"

#include "bertforge/util/error.h"

namespace bertforge::data {

namespace {
constexpr ProblemType kProblems[] = {ProblemType::single_label_classification,
                                     ProblemType::multi_label_classification, ProblemType::regression,
                                     ProblemType::token_classification};
}  // namespace

const char* problem_type_name(ProblemType p) {
  switch (p) {
    case ProblemType::single_label_classification: return "single_label_classification";
    case ProblemType::multi_label_classification: return "multi_label_classification";
    case ProblemType::regression: return "regression";
    case ProblemType::token_classification: return "token_classification";
  }
  return "?";
}

ProblemType problem_type_from_name(const std::string& name) {
  std::string choices;
  for (ProblemType p : kProblems) {
    if (name == problem_type_name(p)) return p;
    choices += choices.empty() ? "" : ", ";
    choices += problem_type_name(p);
  }
  throw Error("unknown problem type \"" + name + "\" (choices: " + choices + ")");
}

std::size_t LabelledExamples::labels_per_row() const {
  switch (problem) {
    case ProblemType::multi_label_classification: return label_names.size();
    case ProblemType::token_classification: return 0;
    default: return 1;
  }
}

}  // namespace bertforge::data
