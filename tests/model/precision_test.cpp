// bf16 against fp32 on the same model and batch, within the bf16 row of the tolerance table: the loss, the
// logits and every parameter's gradient, for bf16 activations between the layers and for plain autocast.
// Train mode with the same seed on both sides: dropout draws the same masks in either precision.
#include <ATen/TensorOperators.h>
#include <ATen/ops/full.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/rand.h>
#include <ATen/ops/randint.h>
#include <ATen/ops/where.h>
#include <gtest/gtest.h>
#include <torch/utils.h>

#include "bertforge/model/autocast.h"
#include "bertforge/model/bert.h"
#include "common/tolerance.h"

using namespace bertforge::model;
using bertforge::testing::tolerance;

namespace {

struct Pass {
  BertForPreTrainingOutput out;
  std::vector<std::pair<std::string, at::Tensor>> grads;
};

Pass run(BertForPreTraining& m, at::ScalarType dtype, bool low_precision_activations) {
  const std::int64_t b = 4, s = 24, vocab = m->config.vocab_size;
  torch::manual_seed(42);
  auto ids = at::randint(1, vocab, {b, s}, at::kLong);
  auto mask = at::ones({b, s}, at::kLong);
  mask.index_put_({1, at::indexing::Slice(15)}, 0);
  auto labels = at::where(at::rand({b, s}) < 0.3, ids, at::full({}, -100, at::kLong));
  auto nsp = at::randint(0, 2, {b}, at::kLong);
  m->zero_grad();
  m->bert->low_precision_activations = low_precision_activations;
  Pass r;
  {
    Autocast mixed(c10::kCPU, dtype);
    r.out = m(ids, at::Tensor(), mask, labels, nsp);
  }
  r.out.loss.backward();
  for (const auto& p : m->named_parameters()) r.grads.emplace_back(p.key(), p.value().grad().clone());
  return r;
}

}  // namespace

TEST(Precision, Bf16LossLogitsAndGradientsAgreeWithFp32) {
  BertConfig c = BertConfig::preset("tiny");
  c.vocab_size = 500;
  c.max_position_embeddings = 32;
  torch::manual_seed(1);
  BertForPreTraining m(c);
  m->train();
  Pass want = run(m, at::kFloat, true);
  auto t = tolerance(c10::kCPU, at::kBFloat16);
  std::vector<at::Tensor> want_grads;
  for (const auto& g : want.grads) want_grads.push_back(g.second);
  const double floor = bertforge::testing::grad_floor(want_grads);
  for (bool low : {true, false}) {
    Pass got = run(m, at::kBFloat16, low);
    SCOPED_TRACE(low ? "bf16 activations" : "plain autocast");
    EXPECT_TRUE(bertforge::testing::loss_close(got.out.loss, want.out.loss, t))
        << got.out.loss.item<double>() << " vs " << want.out.loss.item<double>();
    EXPECT_TRUE(bertforge::testing::values_close(got.out.prediction_logits, want.out.prediction_logits, t));
    ASSERT_EQ(got.grads.size(), want.grads.size());
    for (std::size_t i = 0; i < got.grads.size(); ++i) {
      EXPECT_EQ(got.grads[i].second.scalar_type(), at::kFloat) << got.grads[i].first;  // fp32 masters
      const auto& g = got.grads[i].second;
      const auto& w = want.grads[i].second;
      EXPECT_TRUE(bertforge::testing::grad_close(g, w, t, floor))
          << got.grads[i].first << ": max diff " << (g - w).abs().max().item<double>();
    }
  }
}
