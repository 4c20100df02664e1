// The metrics of fine-tuning, as HF's example scripts report them, from predictions and references already
// taken out of the model (argmax, logits > 0, the tags of first sub-words): no LibTorch here.
//
//   sequence_metrics  run_glue.py / run_classification.py's compute_metrics, for BertForSequenceClassification
//   token_metrics     run_ner.py's compute_metrics (evaluate's "seqeval"), for BertForTokenClassification
//
// Both return HF's names without the eval_ prefix (the Trainer adds it). Arguments go predictions first, then
// references, as HF's metric.compute(predictions=, references=) takes them (scikit-learn takes y_true first).
//
// Each score is its oracle's within 1e-12 (1 + |score|) (tests/common/tolerance.json's task_metrics row;
// tests/golden/task_metrics.json, written by tools/gen_golden/task_metrics.py with the versions
// requirements.txt pins); the classification and seqeval scores are equal to the bit:
//   accuracy              sklearn accuracy_score; also evaluate glue's simple_accuracy
//   f1_binary             sklearn f1_score (average="binary", pos_label=1): the F1 of class 1. Like sklearn,
//                         an Error when more than two classes occur, or two without class 1
//   f1_macro              sklearn f1_score(average="macro"): the mean F1 over the classes present in the
//                         predictions or the references
//   matthews_correlation  sklearn matthews_corrcoef (the multi-class formula; 0 where it is undefined)
//   pearson, spearman     scipy pearsonr / spearmanr (ties take their average rank). NaN for a constant input,
//                         as SciPy gives, and also for fewer than 2 rows, where SciPy raises instead: an
//                         evaluation on one row should not end a training run
//   mean_squared_error    sklearn mean_squared_error (evaluate's "mse")
//   f1_micro_multilabel   sklearn f1_score(average="micro") on 0/1 rows: 2 tp / (predicted 1s + true 1s)
//   seqeval               seqeval's default mode (mode=None: conlleval's chunking, any of IOB1, IOB2, IOE,
//                         IOBES; an I- after O or after another type starts an entity; a tag's first character
//                         is its prefix and what follows the first '-' its type, "_" when empty), micro-averaged
//                         over entities, and token accuracy
// Where a precision, recall or F1 divides by zero, the score is 0: scikit-learn's and seqeval's default,
// zero_division="warn", whose warning we do not repeat.
// Every function throws Error for inputs of different lengths or no input at all.
//
// Known difference from HF's own figures: evaluate's glue casts stsb's values to float32 and SciPy then
// correlates in float32 (5e-7 relative apart on a small case tried); here values are doubles throughout.
#pragma once
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "bertforge/data/labelled.h"  // ProblemType

namespace bertforge::eval {

double accuracy(const std::vector<std::int64_t>& predictions, const std::vector<std::int64_t>& references);
double f1_binary(const std::vector<std::int64_t>& predictions, const std::vector<std::int64_t>& references);
double f1_macro(const std::vector<std::int64_t>& predictions, const std::vector<std::int64_t>& references);
double matthews_correlation(const std::vector<std::int64_t>& predictions,
                            const std::vector<std::int64_t>& references);
double pearson(const std::vector<double>& predictions, const std::vector<double>& references);
double spearman(const std::vector<double>& predictions, const std::vector<double>& references);
double mean_squared_error(const std::vector<double>& predictions, const std::vector<double>& references);
// Rows of 0/1 laid end to end (their length does not change a micro average).
double f1_micro_multilabel(const std::vector<std::int64_t>& predictions,
                           const std::vector<std::int64_t>& references);

// evaluate's glue configurations (cola sst2 mrpc qqp mnli mnli_matched mnli_mismatched qnli rte wnli hans
// stsb) -> the names of the metrics each reports, in HF's order: cola matthews_correlation; stsb pearson,
// spearmanr; mrpc and qqp accuracy, f1; the others accuracy. Error naming the choices for another name.
const std::vector<std::string>& glue_metric_names(const std::string& task_name);

// run_glue.py's compute_metrics (run_classification.py's without --metric_name). task_name: a glue
// configuration above, or "" for a user's own data, scored as the scripts do then: accuracy
// (single-label), mse (regression: both scripts' mean squared error), f1 (multi-label: run_classification.py
// loads evaluate's "f1" with config "multilabel" and passes average="micro", "commonly used in multi-label
// classification"; run_glue.py has no multi-label, so this is the one HF figure to compare with). With several metrics,
// combined_score is their mean, as run_glue.py adds it.
// predictions and references: one value per row, a class id (an integral value) for single-label and the
// value for regression; for multi-label labels_per_row values of 0 or 1 per row, row after row (the layout
// of data::LabelledExamples::labels). Error for token_classification (token_metrics scores it), a glue task
// given the wrong problem (stsb is regression, the others single-label), or a value that does not fit.
// A NaN score stays NaN in the result (nlohmann::json writes it as null).
nlohmann::json sequence_metrics(const std::string& task_name, data::ProblemType problem,
                                const std::vector<double>& predictions, const std::vector<double>& references,
                                std::size_t labels_per_row = 1);

// evaluate's seqeval as run_ner.py reports it: overall_precision, overall_recall, overall_f1 and
// overall_accuracy; with entity_level (run_ner.py's --return_entity_level_metrics) also <TYPE>_precision,
// _recall, _f1 and _number (entities of that type in the references) for each type seen in either.
// One vector of tags per sentence, only the positions HF scores (label != -100: first sub-words); an
// entity never spans two sentences. Error for sentences of different lengths or an empty tag.
nlohmann::json token_metrics(const std::vector<std::vector<std::string>>& predictions,
                             const std::vector<std::vector<std::string>>& references, bool entity_level = false);

}  // namespace bertforge::eval
