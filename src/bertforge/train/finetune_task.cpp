#include "bertforge/train/finetune_task.h"

#include "bertforge/model/pretrained.h"
#include "bertforge/util/ignore_index.h"

namespace bertforge::train {

FinetuneTask::FinetuneTask(model::Classifier m, eval::ClassifierTask task)
    : m_(m), task_(std::move(task)), mode_(m, /*training=*/true, /*sparse=*/true) {}

std::vector<double> FinetuneTask::term_counts(const data::Batch& b) const {
  if (task_.problem == data::ProblemType::token_classification)
    return {static_cast<double>(b.labels.ne(kIgnoreIndex).sum().item<std::int64_t>())};
  return {static_cast<double>(b.input_ids.size(0))};
}

std::vector<at::Tensor> FinetuneTask::forward(const data::Batch& b, c10::Device device, bool bf16) {
  return {eval::forward_batch(m_, b, device, bf16).loss};
}

nlohmann::json FinetuneTask::evaluate(data::Loader& loader, const eval::EvalOptions& options) {
  return eval::evaluate_classifier(m_, loader, task_, options);
}

void FinetuneTask::save_pretrained(const std::string& dir) {
  model::save_pretrained(m_.module(), m_.config(), m_.architecture(), dir);
}

}  // namespace bertforge::train
