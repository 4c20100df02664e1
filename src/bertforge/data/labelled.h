// Fine-tuning examples: encoded rows with labels, as HF's run_glue.py / run_ner.py hand them to the Trainer
// (input_ids with [CLS] and [SEP], token_type_ids, labels), for BertForSequenceClassification and
// BertForTokenClassification. Made from the files users have by data/labelled_files.h; batched by
// data/labelled_loader.h. No LibTorch here.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace bertforge::data {

// What a label is. The first three are HF's config.problem_type values for BertForSequenceClassification;
// token_classification is BertForTokenClassification (one class per token).
enum class ProblemType { single_label_classification, multi_label_classification, regression, token_classification };
const char* problem_type_name(ProblemType p);
// HF's names above; Error naming the value otherwise.
ProblemType problem_type_from_name(const std::string& name);

struct LabelledExamples {
  ProblemType problem = ProblemType::single_label_classification;
  std::vector<std::string> label_names;                 // class id -> name (HF id2label); empty for regression
  std::vector<std::int32_t> input_ids, token_type_ids;  // every row's tokens ([CLS] ... [SEP]), concatenated
  std::vector<std::uint64_t> offsets{0};                // row i holds tokens [offsets[i], offsets[i + 1])
  // single_label_classification: one class id per row; regression: one value per row;
  // multi_label_classification: label_names.size() values (0 or 1) per row;
  // token_classification: one per token, a class id or kIgnoreIndex (util/ignore_index.h) where unlabelled.
  std::vector<float> labels;

  std::size_t rows() const { return offsets.size() - 1; }
  std::size_t length(std::size_t row) const { return offsets[row + 1] - offsets[row]; }
  // Labels per row for the sequence problems (1, or the number of classes for multi-label); 0 for tokens.
  std::size_t labels_per_row() const;
};

}  // namespace bertforge::data
