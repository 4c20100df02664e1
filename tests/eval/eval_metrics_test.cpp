#include "bertforge/eval/eval_metrics.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

using bertforge::eval::EvalMetrics;

TEST(EvalMetrics, DenseAndSparseLogitsAgreeWithDirectComputation) {
  at::manual_seed(0);
  at::Tensor logits = at::randn({2, 3, 5});
  at::Tensor labels = at::tensor({-100, 4, 1, 2, -100, -100}, at::kLong).reshape({2, 3});
  at::Tensor nsp_logits = at::tensor({0.3f, 0.1f, -1.0f, 2.0f}).reshape({2, 2});
  at::Tensor nsp_labels = at::tensor({0, 0}, at::kLong);

  EvalMetrics dense;
  dense.add(at::tensor(2.0), logits, labels, nsp_logits, nsp_labels);
  dense.add(at::tensor(4.0).reshape({}), logits.narrow(0, 0, 1), labels.narrow(0, 0, 1));
  auto r = dense.result();
  EXPECT_DOUBLE_EQ(r["eval_loss"].get<double>(), (2.0 * 2 + 4.0 * 1) / 3);
  EXPECT_DOUBLE_EQ(r["eval_nsp_accuracy"].get<double>(), 0.5);

  at::Tensor mask = labels.reshape(-1).ne(-100);
  at::Tensor flat = logits.reshape({-1, 5}).index({mask});
  at::Tensor targets = labels.reshape(-1).masked_select(mask);
  at::Tensor first = flat.narrow(0, 0, 2), first_t = targets.narrow(0, 0, 2);
  double ce = at::cross_entropy_loss(flat, targets, {}, at::Reduction::Sum).item<double>() +
              at::cross_entropy_loss(first, first_t, {}, at::Reduction::Sum).item<double>();
  EXPECT_NEAR(r["eval_mlm_loss"].get<double>(), ce / 5, 1e-6);
  EXPECT_NEAR(r["eval_perplexity"].get<double>(), std::exp(ce / 5), 1e-5);
  double correct = flat.argmax(-1).eq(targets).sum().item<double>() + first.argmax(-1).eq(first_t).sum().item<double>();
  EXPECT_DOUBLE_EQ(r["eval_mlm_accuracy"].get<double>(), correct / 5);

  EvalMetrics sparse;
  sparse.add(at::tensor(2.0), flat, labels, nsp_logits, nsp_labels);
  EvalMetrics dense_one;
  dense_one.add(at::tensor(2.0), logits, labels, nsp_logits, nsp_labels);
  EXPECT_EQ(sparse.result(), dense_one.result());
}

TEST(EvalMetrics, Top5CountsLabelsAmongTheFiveLargestLogits) {
  // Logits 0..6 ascending: label 6 ranks first, 2 fifth, 1 sixth.
  at::Tensor row = at::arange(7, at::kFloat);
  at::Tensor logits = at::stack({row, row, row});
  at::Tensor labels = at::tensor({6, 2, 1}, at::kLong).reshape({1, 3});
  EvalMetrics m;
  m.add(at::tensor(1.0), logits, labels);
  auto r = m.result();
  EXPECT_DOUBLE_EQ(r["eval_mlm_accuracy"].get<double>(), 1.0 / 3);
  EXPECT_DOUBLE_EQ(r["eval_mlm_top5_accuracy"].get<double>(), 2.0 / 3);
}
