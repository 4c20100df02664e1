// Fine-tuning as a TrainTask (task.h): BertForSequenceClassification or BertForTokenClassification, one loss
// term (its mean over sequences, or over labelled tokens for token tasks), evaluated with the task's metrics
// (eval/classifier_evaluation.h), saved as an HF folder that AutoModelFor*Classification loads.
#pragma once
#include "bertforge/eval/classifier_evaluation.h"
#include "bertforge/model/classifier.h"
#include "bertforge/train/task.h"

namespace bertforge::train {

class FinetuneTask : public TrainTask {
 public:
  // The model in training mode (the token head sparse: logits at labelled positions only) while the task exists.
  FinetuneTask(model::Classifier m, eval::ClassifierTask task);
  torch::nn::Module& model() override { return m_.module(); }
  std::vector<std::string> terms() const override { return {""}; }
  std::vector<double> term_counts(const data::Batch& b) const override;
  std::vector<at::Tensor> forward(const data::Batch& b, c10::Device device, bool bf16) override;
  nlohmann::json evaluate(data::Loader& loader, const eval::EvalOptions& options) override;
  void save_pretrained(const std::string& dir) override;

 private:
  model::Classifier m_;
  eval::ClassifierTask task_;
  eval::ClassifierMode mode_;
};

}  // namespace bertforge::train
