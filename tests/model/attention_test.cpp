#include "bertforge/model/attention.h"

#include <ATen/ops/ones.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/scaled_dot_product_attention.h>
#include <ATen/ops/softmax.h>
#include <gtest/gtest.h>
#include <torch/utils.h>

#include "bertforge/model/dropout.h"
#include "common/tolerance.h"

using namespace bertforge::model;
namespace model = bertforge::model;
using bertforge::testing::grad_close;
using bertforge::testing::values_close;
using bertforge::testing::tolerance;

namespace {

struct Inputs {
  at::Tensor q, k, v, mask;
};

Inputs inputs(at::ScalarType dtype) {
  Inputs in;
  for (auto* t : {&in.q, &in.k, &in.v}) *t = at::randn({2, 3, 10, 8}).to(dtype).requires_grad_();
  in.mask = at::ones({2, 1, 1, 10}, at::kBool);
  in.mask.index_put_({1, at::indexing::Ellipsis, at::indexing::Slice(6)}, false);
  return in;
}

// The composition in fp64 with the keep mask scaled (keep / (1 - p)) given.
at::Tensor reference(const Inputs& in, const at::Tensor& scaled_keep) {
  auto d = [](const at::Tensor& t) { return t.to(at::kDouble); };
  auto scores = at::matmul(d(in.q), d(in.k).transpose(-2, -1)) / std::sqrt(8.0);
  scores = scores.masked_fill(in.mask.logical_not(), -1e300);
  return at::matmul(at::softmax(scores, -1) * d(scaled_keep), d(in.v));
}

class AttentionTest : public ::testing::TestWithParam<at::ScalarType> {};

}  // namespace

// The dropout path draws its keep mask over the [batch, heads, seq, seq] probabilities as model::dropout does
// for a tensor of that shape, so the same seed gives the mask to build the reference with.
TEST_P(AttentionTest, DropoutPathEqualsSoftmaxDropoutComposition) {
  auto in = inputs(GetParam());
  torch::manual_seed(9);
  auto out = attention(in.q, in.k, in.v, in.mask, 0.2, true);
  torch::manual_seed(9);
  auto keep = model::dropout(at::ones({2, 3, 10, 10}), 0.2, true);
  auto t = tolerance(c10::kCPU, GetParam());
  ASSERT_EQ(out.scalar_type(), GetParam());
  auto want = reference(in, keep);
  EXPECT_TRUE(values_close(out, want, t));
  auto g = at::randn(out.sizes());
  out.backward(g.to(GetParam()));
  auto got_grads = std::vector<at::Tensor>{in.q.grad().clone(), in.k.grad().clone(), in.v.grad().clone()};
  for (auto* x : {&in.q, &in.k, &in.v}) x->mutable_grad().reset();
  want.backward(g.to(at::kDouble));
  EXPECT_TRUE(grad_close(got_grads[0], in.q.grad(), t));
  EXPECT_TRUE(grad_close(got_grads[1], in.k.grad(), t));
  EXPECT_TRUE(grad_close(got_grads[2], in.v.grad(), t));
}

TEST_P(AttentionTest, WithoutDropoutIsSdpa) {
  auto in = inputs(GetParam());
  auto want = at::scaled_dot_product_attention(in.q, in.k, in.v, in.mask);
  EXPECT_TRUE(at::equal(attention(in.q, in.k, in.v, in.mask, 0.1, false), want));
  EXPECT_TRUE(at::equal(attention(in.q, in.k, in.v, in.mask, 0.0, true), want));
}

INSTANTIATE_TEST_SUITE_P(Dtypes, AttentionTest, ::testing::Values(at::kFloat, at::kBFloat16),
                         [](const auto& info) { return std::string(c10::toString(info.param)); });
