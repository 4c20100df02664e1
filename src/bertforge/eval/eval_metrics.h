// Evaluation metrics of BERT pre-training, accumulated over batches:
//   eval_loss          HF Trainer's: the mean of the per-batch losses weighted by batch size
//   eval_mlm_loss      cross-entropy per labelled token over the whole set (token-weighted)
//   eval_perplexity    exp(eval_mlm_loss)
//   eval_mlm_accuracy  argmax == label over labelled tokens
//   eval_mlm_top5_accuracy  label among the 5 largest logits, over labelled tokens
//   eval_nsp_loss      cross-entropy of the sentence head per sequence (absent without sentence labels)
//   eval_nsp_accuracy  argmax == next_sentence_label over sequences (absent without sentence labels)
// Logits may be dense [batch, seq, vocab] or sparse [labelled, vocab] (rows in row-major order of the
// labelled positions, as the model's sparse_mlm head returns them).
#pragma once
#include <ATen/Tensor.h>
#include <nlohmann/json.hpp>

#include <cstdint>

#include "bertforge/dist/world.h"

namespace bertforge::eval {

class EvalMetrics {
 public:
  void add(const at::Tensor& loss, const at::Tensor& prediction_logits, const at::Tensor& labels,
           const at::Tensor& seq_relationship_logits = {}, const at::Tensor& next_sentence_label = {});
  // Replaces each count and sum by its total over the ranks (each evaluated its own shard).
  void sum_over(dist::World& world);
  nlohmann::json result() const;  // HF-style keys with the eval_ prefix

 private:
  double loss_sum_ = 0, mlm_ce_sum_ = 0, nsp_ce_sum_ = 0;
  std::int64_t sequences_ = 0, mlm_tokens_ = 0, mlm_correct_ = 0, mlm_top5_ = 0, nsp_total_ = 0, nsp_correct_ = 0;
};

}  // namespace bertforge::eval
