// classify: the labels and scores of a fine-tuned BertForSequenceClassification folder for texts or text
// pairs, as transformers' pipeline("text-classification") gives them:
//   - each input is encoded with special tokens ([CLS] text [SEP] (pair [SEP])), no truncation (a text longer
//     than max_position_embeddings is an Error naming its source and line, where HF's pipeline fails);
//   - scores are HF's function_to_apply default: sigmoid when problem_type is multi_label_classification or
//     there is one label (regression), softmax otherwise; computed in fp32;
//   - top_k labels by score, highest first (HF's top_k; 0: all of them, HF's top_k=None), named by id2label.
// Inputs run in batches padded to the longest.
// entities: a BertForTokenClassification folder's entities for each text, as pipeline("token-classification",
// aggregation_strategy="simple") gives them (infer/entities.h); texts are truncated to the tokenizer's
// model_max_length, as the pipeline does.
#pragma once
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "bertforge/infer/entities.h"
#include "bertforge/model/classifier.h"
#include "bertforge/text/tokenizer.h"

namespace bertforge::infer {

struct ClassifyInput {
  std::string text;
  std::optional<std::string> pair;
  std::string source;  // "file:line" or "" (the command line): named by errors
};

struct LabelScore {
  std::string label;
  double score;
};

struct ClassifyOptions {
  int top_k = 1;
  int batch_size = 32;
  c10::Device device = c10::kCPU;
  bool bf16 = false;
};

std::vector<std::vector<LabelScore>> classify(model::Classifier& m, const text::Tokenizer& tokenizer,
                                              const std::vector<ClassifyInput>& inputs, const ClassifyOptions& options);

std::vector<std::vector<Entity>> entities(model::Classifier& m, const text::Tokenizer& tokenizer,
                                          const std::vector<ClassifyInput>& inputs, const ClassifyOptions& options);

// HF's output shape: [{"label": ..., "score": ...}, ...].
nlohmann::json to_json(const std::vector<LabelScore>& scores);

}  // namespace bertforge::infer
