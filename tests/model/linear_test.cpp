#include "bertforge/model/linear.h"

#include <ATen/ops/equal.h>
#include <ATen/ops/linear.h>
#include <ATen/ops/randn.h>
#include <gtest/gtest.h>

#include "bertforge/model/onednn_gemm.h"
#include "common/tolerance.h"

using namespace bertforge::model;
using bertforge::testing::grad_close;
using bertforge::testing::reordered;
using bertforge::testing::values_close;

namespace {

struct Grads {
  at::Tensor y, dx, dw, db;
};

// y = f(x, w, b) and the gradients of sum(y * probe), so every output element weighs differently.
template <class F>
Grads run(F f, const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, const at::Tensor& probe) {
  auto xl = x.detach().clone().requires_grad_(), wl = w.detach().clone().requires_grad_(),
       bl = b.detach().clone().requires_grad_();
  at::Tensor y = f(xl, wl, bl);
  (y * probe).sum().backward();
  return {y.detach(), xl.grad(), wl.grad(), bl.grad()};
}

class OneDnnLinearTest : public ::testing::TestWithParam<std::vector<std::int64_t>> {};

TEST_P(OneDnnLinearTest, EqualsAtenLinearAndItsGradients) {
  if (!onednn_possible()) GTEST_SKIP() << "sanitizer build: ATen's GEMM alone";
  std::string why;
  ASSERT_TRUE(onednn_available(&why)) << why << " (Debian: libdnnl2, which scripts/setup.sh installs)";
  torch::manual_seed(3);
  std::vector<std::int64_t> shape = GetParam();  // x's; the last two entries: in, out
  const std::int64_t out = shape.back();
  shape.pop_back();
  const at::Tensor x = at::randn(shape), w = at::randn({out, shape.back()}) * 0.05, b = at::randn({out});
  auto y_shape = shape;
  y_shape.back() = out;
  const at::Tensor probe = at::randn(y_shape);
  const Grads want = run([](auto& x, auto& w, auto& b) { return at::linear(x, w, b); }, x, w, b, probe);
  const Grads got = run([](auto& x, auto& w, auto& b) { return onednn_linear(x, w, b); }, x, w, b, probe);
  const auto t = reordered();
  EXPECT_EQ(got.y.sizes(), want.y.sizes());
  EXPECT_TRUE(values_close(got.y, want.y, t));
  EXPECT_EQ(got.dx.sizes(), x.sizes());
  EXPECT_TRUE(grad_close(got.dx, want.dx, t));
  EXPECT_TRUE(grad_close(got.dw, want.dw, t));
  EXPECT_TRUE(grad_close(got.db, want.db, t));
}

// BERT's products at a small scale: activations as [tokens, hidden] (unpadded) and [batch, seq, hidden], the
// feed-forward's widening and narrowing, a head of two outputs, and sizes that fill no vector register.
INSTANTIATE_TEST_SUITE_P(Shapes, OneDnnLinearTest,
                         ::testing::Values(std::vector<std::int64_t>{37, 64, 64}, std::vector<std::int64_t>{3, 11, 64, 96},
                                           std::vector<std::int64_t>{50, 96, 64}, std::vector<std::int64_t>{5, 64, 2},
                                           std::vector<std::int64_t>{1, 7, 13}, std::vector<std::int64_t>{1, 64, 96}));

TEST(OneDnnLinear, OnlyTheWeightNeedsAGradient) {
  if (!onednn_possible()) GTEST_SKIP() << "sanitizer build: ATen's GEMM alone";
  const at::Tensor x = at::randn({6, 8}), w = at::randn({4, 8}).requires_grad_(), b = at::randn({4});
  onednn_linear(x, w, b).sum().backward();
  EXPECT_TRUE(values_close(w.grad(), x.sum(0).expand({4, 8}), reordered()));
}

TEST(OneDnnLinear, OneRowLeavesTheBiasAsItWas) {
  if (!onednn_possible()) GTEST_SKIP() << "sanitizer build: ATen's GEMM alone";
  const at::Tensor x = at::randn({1, 16}), w = at::randn({8, 16}), b = at::randn({8}), before = b.clone();
  at::NoGradGuard no_grad;
  const at::Tensor y = onednn_linear(x, w, b);
  EXPECT_TRUE(at::equal(b, before));
  EXPECT_TRUE(values_close(y, at::linear(x, w, before), reordered()));
}

TEST(CpuGemm, AutoTakesOneDnnOnAmdCpusWhereItLoads) {
  CpuInfo amd, intel;
  amd.vendor = "AuthenticAMD";
  intel.vendor = "GenuineIntel";
  EXPECT_EQ(cpu_gemm_choice(amd, true), CpuGemm::onednn);
  EXPECT_EQ(cpu_gemm_choice(amd, false), CpuGemm::aten);
  EXPECT_EQ(cpu_gemm_choice(intel, true), CpuGemm::aten);
  EXPECT_EQ(cpu_gemm_choice(CpuInfo{}, true), CpuGemm::aten);
}

}  // namespace
