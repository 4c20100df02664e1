#include "bertforge/train/task.h"

#include "bertforge/model/pretrained.h"
#include "bertforge/util/ignore_index.h"

namespace bertforge::train {

PretrainTask::PretrainTask(model::BertForPreTraining m)
    : m_(m), mode_(m, /*training=*/true, /*sparse_mlm=*/true) {}

std::vector<double> PretrainTask::term_counts(const data::Batch& b) const {
  return {static_cast<double>(b.labels.ne(kIgnoreIndex).sum().item<std::int64_t>()),
          b.sentence_label.defined() ? static_cast<double>(b.input_ids.size(0)) : 0.0};
}

std::vector<at::Tensor> PretrainTask::forward(const data::Batch& b, c10::Device device, bool bf16) {
  auto out = eval::forward_batch(m_, b, device, bf16);
  return {out.mlm_loss, out.nsp_loss};
}

nlohmann::json PretrainTask::evaluate(data::Loader& loader, const eval::EvalOptions& options) {
  return eval::evaluate(m_, loader, options);
}

void PretrainTask::save_pretrained(const std::string& dir) { model::save_pretrained(*m_, dir); }

}  // namespace bertforge::train
