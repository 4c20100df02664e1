// What the Trainer trains: a model and what its head makes of a batch. The Trainer owns everything a run
// does around the model (steps, accumulation, gradient sync, logs, evaluations, checkpoints); a task owns what
// depends on the head: its loss terms, its evaluation, the folder it saves as.
//
// A loss is a sum of terms, each a mean over its own items (pre-training: MLM over labelled tokens, NSP over
// sequences; fine-tuning: one term over sequences or labelled tokens). term_counts() says how many items
// each term of a batch averages, so that the Trainer weighs micro-batches and ranks as one global batch.
#pragma once
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>
#include <torch/nn/module.h>

#include <string>
#include <vector>

#include "bertforge/data/loader.h"
#include "bertforge/eval/evaluation.h"
#include "bertforge/model/bert.h"

namespace bertforge::train {

class TrainTask {
 public:
  virtual ~TrainTask() = default;
  virtual torch::nn::Module& model() = 0;
  // The terms as logged beside the loss (e.g. mlm_loss); "" for a term not logged on its own.
  virtual std::vector<std::string> terms() const = 0;
  // Items each term of this batch averages over (0: the term is absent from it).
  virtual std::vector<double> term_counts(const data::Batch& b) const = 0;
  // The terms' means for one batch in training mode, inputs moved to `device`, under bf16 autocast when
  // asked; a term the batch does not have is an undefined tensor.
  virtual std::vector<at::Tensor> forward(const data::Batch& b, c10::Device device, bool bf16) = 0;
  // Metrics over the loader's whole epoch, eval_-prefixed (eval/evaluation.h's contract).
  virtual nlohmann::json evaluate(data::Loader& loader, const eval::EvalOptions& options) = 0;
  // An HF folder of the model: config.json and model.safetensors.
  virtual void save_pretrained(const std::string& dir) = 0;
};

// BertForPreTraining: terms mlm_loss and nsp_loss, trained with the sparse MLM head (the same loss and
// gradients; the projection onto the vocabulary only where a label is) while the task exists.
class PretrainTask : public TrainTask {
 public:
  explicit PretrainTask(model::BertForPreTraining m);
  torch::nn::Module& model() override { return *m_; }
  std::vector<std::string> terms() const override { return {"mlm_loss", "nsp_loss"}; }
  std::vector<double> term_counts(const data::Batch& b) const override;
  std::vector<at::Tensor> forward(const data::Batch& b, c10::Device device, bool bf16) override;
  nlohmann::json evaluate(data::Loader& loader, const eval::EvalOptions& options) override;
  void save_pretrained(const std::string& dir) override;

 private:
  model::BertForPreTraining m_;
  eval::ModelMode mode_;
};

}  // namespace bertforge::train
