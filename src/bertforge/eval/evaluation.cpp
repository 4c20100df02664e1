#include "bertforge/eval/evaluation.h"

#include <ATen/core/grad_mode.h>

#include <chrono>
#include <cmath>
#include <optional>

#include "bertforge/eval/eval_metrics.h"
#include "bertforge/model/autocast.h"
#include "bertforge/model/safetensors.h"
#include "bertforge/util/progress.h"

namespace bertforge::eval {

at::Tensor to_device(const at::Tensor& t, c10::Device device) {
  return t.defined() ? t.to(device, /*non_blocking=*/device.is_cuda() && t.is_pinned()) : t;
}

model::BertForPreTrainingOutput forward_batch(model::BertForPreTraining& m, const data::Batch& b,
                                              c10::Device device, bool bf16) {
  auto on = [&](const at::Tensor& t) { return to_device(t, device); };
  model::Autocast mixed(device.type(), bf16 ? at::kBFloat16 : at::kFloat);
  return m->forward(on(b.input_ids), on(b.token_type_ids), on(b.attention_mask), on(b.labels), on(b.sentence_label));
}

ModelMode::ModelMode(model::BertForPreTraining m, bool training, bool sparse_mlm)
    : m_(std::move(m)), was_training_(m_->is_training()), was_sparse_(m_->sparse_mlm) {
  m_->train(training);
  m_->sparse_mlm = sparse_mlm;
}

ModelMode::~ModelMode() {
  m_->train(was_training_);
  m_->sparse_mlm = was_sparse_;
}

nlohmann::json evaluate(model::BertForPreTraining& m, data::Loader& loader, const EvalOptions& o) {
  auto start = std::chrono::steady_clock::now();
  ModelMode mode(m, /*training=*/false, /*sparse_mlm=*/true);
  EvalMetrics metrics;
  std::uint64_t batches = loader.batches_per_epoch();
  if (o.max_batches) batches = std::min(batches, o.max_batches);
  std::optional<Progress> progress;
  if (o.progress) progress.emplace("evaluate", batches, "batches");
  std::int64_t samples = 0, tokens = 0, steps = 0;
  {
    at::NoGradGuard no_grad;
    loader.seek({0, 0});
    for (std::uint64_t i = 0; i < batches; ++i) {
      auto b = loader.next();
      if (!b) break;
      auto out = forward_batch(m, *b, o.device, o.bf16);
      at::Tensor nsp = b->sentence_label.defined() ? b->sentence_label.to(o.device) : b->sentence_label;
      metrics.add(out.loss, out.prediction_logits, b->labels.to(o.device), out.seq_relationship_logits, nsp);
      samples += b->input_ids.size(0);
      ++steps;
      tokens += b->attention_mask.sum().item<std::int64_t>();
      if (progress) progress->update(i + 1);
    }
  }
  if (progress) progress->finish();
  if (o.world) {
    metrics.sum_over(*o.world);
    auto t = o.world->sum({static_cast<double>(samples), static_cast<double>(tokens)});
    samples = std::llround(t[0]), tokens = std::llround(t[1]);
  }
  double runtime = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  nlohmann::json r = metrics.result();
  r["eval_runtime"] = runtime;
  r["eval_samples"] = samples;
  r["eval_tokens"] = tokens;
  r["eval_samples_per_second"] = static_cast<double>(samples) / runtime;
  r["eval_steps_per_second"] = static_cast<double>(steps) / runtime;  // batches, as HF's speed_metrics counts them
  r["eval_tokens_per_second"] = static_cast<double>(tokens) / runtime;
  return r;
}

void save_batch(const data::Batch& b, const std::string& path) {
  std::vector<std::pair<std::string, at::Tensor>> tensors{
      {"input_ids", b.input_ids}, {"token_type_ids", b.token_type_ids},
      {"attention_mask", b.attention_mask}, {"labels", b.labels}};
  if (b.sentence_label.defined()) tensors.emplace_back(b.sentence_label_name, b.sentence_label);
  model::save_safetensors(path, tensors);
}

}  // namespace bertforge::eval
