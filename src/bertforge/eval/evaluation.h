// One evaluation pass of BertForPreTraining over a loader: the single implementation behind
// `bertforge evaluate` and the Trainer's eval steps; also the model-running helpers both share (ModelMode,
// forward_batch, save_batch).
//
//   nlohmann::json r = evaluate(model, loader, {device});
//
// The loader is seeked to its start, so every pass sees the same batches and masks (the loader masks batch
// b of epoch e with a collator seeded from (seed, e, b)): runs and evaluations compare. The model runs in
// eval mode under no_grad with the sparse MLM head, so logits exist only at labelled positions and memory
// does not grow with vocabulary x sequence x batch; the model's train/eval mode and sparse_mlm are
// restored afterwards. Result: EvalMetrics' keys (eval_loss, eval_mlm_loss, eval_perplexity,
// eval_mlm_accuracy, eval_mlm_top5_accuracy, eval_nsp_accuracy) plus eval_runtime,
// eval_samples_per_second, eval_tokens_per_second (non-padding tokens) and eval_samples, eval_tokens.
// Distributed: each rank evaluates its shard of the eval loader and passes its World; every count and sum is
// then totalled over the ranks, so each rank returns the metrics of the whole set.
#pragma once
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <cstdint>

#include "bertforge/data/loader.h"
#include "bertforge/dist/world.h"
#include "bertforge/model/bert.h"

namespace bertforge::eval {

// Sets a model's train/eval mode and sparse_mlm for a scope; both are restored when the scope ends, also by an
// exception, so an evaluation that fails mid-way never leaves a training model in eval mode.
class ModelMode {
 public:
  ModelMode(model::BertForPreTraining m, bool training, bool sparse_mlm);
  ~ModelMode();
  ModelMode(const ModelMode&) = delete;
  ModelMode& operator=(const ModelMode&) = delete;

 private:
  model::BertForPreTraining m_;
  bool was_training_, was_sparse_;
};

struct EvalOptions {
  c10::Device device = c10::kCPU;
  bool bf16 = false;              // autocast to bfloat16, as TrainingArguments.bf16
  std::uint64_t max_batches = 0;  // 0: the whole epoch
  bool progress = false;          // a progress line on stderr (util/progress.h)
  dist::World* world = nullptr;   // null: one process
};

// A batch tensor on `device` (undefined stays undefined); from page-locked memory (LoaderOptions::pin_memory)
// the copy is queued on the stream and the host goes on.
at::Tensor to_device(const at::Tensor& t, c10::Device device);

// The model's outputs for one batch, inputs moved to `device`, under autocast when bf16.
model::BertForPreTrainingOutput forward_batch(model::BertForPreTraining& m, const data::Batch& b,
                                              c10::Device device, bool bf16);

nlohmann::json evaluate(model::BertForPreTraining& m, data::Loader& loader, const EvalOptions& options);

// A batch as the model sees it (masks applied), as safetensors: input_ids, token_type_ids, attention_mask,
// labels and, when present, next_sentence_label / sentence_order_label. For checking losses and training
// steps against another implementation (evaluate --dump-batch, pretrain --dump_batches).
void save_batch(const data::Batch& b, const std::string& path);

}  // namespace bertforge::eval
