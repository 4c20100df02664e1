#include "bertforge/eval/eval_metrics.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>

#include "bertforge/util/ignore_index.h"

namespace bertforge::eval {

void EvalMetrics::add(const at::Tensor& loss, const at::Tensor& prediction_logits, const at::Tensor& labels,
                      const at::Tensor& seq_relationship_logits, const at::Tensor& next_sentence_label) {
  at::NoGradGuard no_grad;
  std::int64_t batch = labels.size(0);
  loss_sum_ += loss.item<double>() * static_cast<double>(batch);
  sequences_ += batch;
  at::Tensor flat_labels = labels.reshape(-1);
  at::Tensor labelled = flat_labels.ne(kIgnoreIndex);
  at::Tensor targets = flat_labels.masked_select(labelled);
  at::Tensor logits = prediction_logits.dim() == 3
                          ? prediction_logits.reshape({-1, prediction_logits.size(-1)}).index({labelled})
                          : prediction_logits;
  logits = logits.to(at::kFloat);
  if (targets.numel() > 0) {
    mlm_ce_sum_ += at::cross_entropy_loss(logits, targets, {}, at::Reduction::Sum).item<double>();
    mlm_correct_ += logits.argmax(-1).eq(targets).sum().item<std::int64_t>();
    mlm_tokens_ += targets.numel();
    auto k = std::min<std::int64_t>(5, logits.size(-1));
    mlm_top5_ += std::get<1>(logits.topk(k)).eq(targets.unsqueeze(1)).sum().item<std::int64_t>();
  }
  if (seq_relationship_logits.defined() && next_sentence_label.defined()) {
    nsp_ce_sum_ += at::cross_entropy_loss(seq_relationship_logits.to(at::kFloat), next_sentence_label, {},
                                          at::Reduction::Sum).item<double>();
    nsp_correct_ += seq_relationship_logits.argmax(-1).eq(next_sentence_label).sum().item<std::int64_t>();
    nsp_total_ += next_sentence_label.numel();
  }
}

void EvalMetrics::sum_over(dist::World& world) {
  if (world.size() == 1) return;
  auto t = world.sum({loss_sum_, mlm_ce_sum_, static_cast<double>(sequences_), static_cast<double>(mlm_tokens_),
                      static_cast<double>(mlm_correct_), static_cast<double>(mlm_top5_),
                      static_cast<double>(nsp_total_), static_cast<double>(nsp_correct_), nsp_ce_sum_});
  loss_sum_ = t[0], mlm_ce_sum_ = t[1];
  sequences_ = std::llround(t[2]), mlm_tokens_ = std::llround(t[3]), mlm_correct_ = std::llround(t[4]);
  mlm_top5_ = std::llround(t[5]), nsp_total_ = std::llround(t[6]), nsp_correct_ = std::llround(t[7]);
  nsp_ce_sum_ = t[8];
}

nlohmann::json EvalMetrics::result() const {
  nlohmann::json out;
  out["eval_loss"] = sequences_ ? loss_sum_ / static_cast<double>(sequences_) : NAN;
  if (mlm_tokens_) {
    double mlm = mlm_ce_sum_ / static_cast<double>(mlm_tokens_);
    out["eval_mlm_loss"] = mlm;
    out["eval_perplexity"] = std::exp(mlm);
    out["eval_mlm_accuracy"] = static_cast<double>(mlm_correct_) / static_cast<double>(mlm_tokens_);
    out["eval_mlm_top5_accuracy"] = static_cast<double>(mlm_top5_) / static_cast<double>(mlm_tokens_);
  }
  if (nsp_total_) {
    out["eval_nsp_loss"] = nsp_ce_sum_ / static_cast<double>(nsp_total_);
    out["eval_nsp_accuracy"] = static_cast<double>(nsp_correct_) / static_cast<double>(nsp_total_);
  }
  return out;
}

}  // namespace bertforge::eval
