#include "bertforge/model/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/ops/equal.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/rand.h>
#include <ATen/ops/randn.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/utils.h>

#include <array>
#include <cmath>
#include <cstdint>

#include "bertforge/util/error.h"
#include "common/tolerance.h"

using namespace bertforge::model;
namespace model = bertforge::model;
using bertforge::testing::values_close;
using bertforge::testing::tolerance;

namespace {

constexpr std::int64_t kN = 1 << 20;

// 1 where dropout(ones) kept the element.
at::Tensor keep_mask(double p, std::int64_t n = kN, at::ScalarType dtype = at::kFloat) {
  return model::dropout(at::ones({n}, dtype), p, true).ne(0).to(at::kDouble);
}

double correlation(const at::Tensor& a, const at::Tensor& b) {
  auto da = a - a.mean(), db = b - b.mean();
  return ((da * db).mean() / (da.std(false) * db.std(false))).item<double>();
}

class DropoutTest : public ::testing::TestWithParam<at::ScalarType> {};

// Philox4x32-10 as Salmon et al. (2011) and Random123 write it, one counter at a time.
std::array<std::uint32_t, 4> philox4x32(std::array<std::uint32_t, 4> c, std::uint32_t k0, std::uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    std::uint64_t p0 = 0xD2511F53ull * c[0], p1 = 0xCD9E8D57ull * c[2];
    c = {static_cast<std::uint32_t>(p1 >> 32) ^ c[1] ^ k0, static_cast<std::uint32_t>(p1),
         static_cast<std::uint32_t>(p0 >> 32) ^ c[3] ^ k1, static_cast<std::uint32_t>(p0)};
    k0 += 0x9E3779B9u, k1 += 0xBB67AE85u;
  }
  return c;
}

}  // namespace

TEST_P(DropoutTest, KeepRateLiesWithinBinomialBounds) {
  for (double p : {0.1, 0.5, 0.9}) {
    double rate = keep_mask(p, kN, GetParam()).mean().item<double>();
    EXPECT_NEAR(rate, 1 - p, 5 * std::sqrt(p * (1 - p) / kN)) << "p " << p;  // 5 sigma
  }
}

TEST(Dropout, DrawsAreUncorrelatedAcrossElementsAndCalls) {
  torch::manual_seed(3);
  auto first = keep_mask(0.1), second = keep_mask(0.1);
  double bound = 5 / std::sqrt(static_cast<double>(kN));
  // Lags 1, 4 (Philox words of one counter), 16 and 64 (the kernel's lanes and blocks).
  for (std::int64_t lag : {1, 4, 16, 64})
    EXPECT_LT(std::abs(correlation(first.slice(0, 0, kN - lag), first.slice(0, lag))), bound) << "lag " << lag;
  EXPECT_LT(std::abs(correlation(first, second)), bound) << "consecutive calls";
}

// The kernel's draws are Philox4x32-10's: the reference above reproduces Random123's known answer, and every
// element's keep decision is its word of the reference's output against p * 2^32. Element i is word
// (i mod 64) / 16 of counter (i / 64) * 16 + i mod 16; the key is the generator's next 64 bits.
TEST_P(DropoutTest, DrawsArePhilox4x32) {
  const std::array<std::uint32_t, 4> known{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u};  // counter 0, key 0
  ASSERT_EQ(philox4x32({0, 0, 0, 0}, 0, 0), known);
  const double p = 0.3;
  const std::int64_t n = 5 * 64 + 37;
  torch::manual_seed(21);
  std::uint64_t key = at::check_generator<at::CPUGeneratorImpl>(at::detail::getDefaultCPUGenerator())->random64();
  torch::manual_seed(21);
  auto kept = model::dropout(at::ones({n}, GetParam()), p, true).ne(0);
  const auto threshold = static_cast<std::uint32_t>(std::ldexp(p, 32));
  for (std::int64_t i = 0; i < n; ++i) {
    std::uint64_t counter = static_cast<std::uint64_t>(i / 64 * 16 + i % 16);
    auto words = philox4x32({static_cast<std::uint32_t>(counter), static_cast<std::uint32_t>(counter >> 32), 0, 0},
                            static_cast<std::uint32_t>(key), static_cast<std::uint32_t>(key >> 32));
    ASSERT_EQ(kept[i].item<bool>(), words[i % 64 / 16] >= threshold) << "element " << i;
  }
}

TEST_P(DropoutTest, OutputIsInputTimesMaskTimesScale) {
  auto x = (at::rand({3, 1000}) + 0.5).to(GetParam());
  auto y = model::dropout(x, 0.25, true);
  ASSERT_EQ(y.scalar_type(), GetParam());
  auto kept = y.ne(0);
  EXPECT_TRUE(at::equal(y, (x.to(at::kFloat) * kept * (1 / 0.75)).to(GetParam())));
}

// Over a few of the kernels' 64 Ki-element tasks (and a ragged tail), so that with more than one thread the
// range is split between them: every split draws the same values, forward and backward.
TEST(Dropout, SeededDrawsRepeatAndDoNotDependOnThreads) {
  const std::int64_t n = 3 * (1 << 16) + 77;
  auto x = at::randn({n}), g = at::randn({n});
  auto run = [&](int threads, std::uint64_t seed) {
    int before = at::get_num_threads();
    at::set_num_threads(threads);
    torch::manual_seed(seed);
    auto xi = x.clone().requires_grad_();
    auto y = model::dropout(xi, 0.1, true);
    y.backward(g);
    at::set_num_threads(before);
    return std::make_pair(y.detach(), xi.grad());
  };
  auto [y1, g1] = run(1, 11);
  for (int threads : {2, 3}) {
    auto [y, gx] = run(threads, 11);
    EXPECT_TRUE(at::equal(y, y1)) << threads << " threads";
    EXPECT_TRUE(at::equal(gx, g1)) << threads << " threads";
  }
  EXPECT_FALSE(at::equal(run(2, 12).first, y1));
}

TEST_P(DropoutTest, BackwardIsGradTimesMaskTimesScale) {
  auto x = (at::rand({64, 33}) + 0.5).to(GetParam()).requires_grad_();
  auto g = at::randn({64, 33}).to(GetParam());
  auto y = model::dropout(x, 0.2, true);
  y.backward(g);
  auto kept = y.ne(0);
  ASSERT_EQ(x.grad().scalar_type(), GetParam());
  EXPECT_TRUE(at::equal(x.grad(), (g.to(at::kFloat) * kept * (1 / 0.8)).to(GetParam())));
}

// dropout_add in one pass against dropout followed by +, from the same seed: values and both gradients.
TEST_P(DropoutTest, FusedAddEqualsDropoutThenAdd) {
  for (at::ScalarType residual_type : {at::kFloat, at::kBFloat16}) {
    auto x = at::randn({7, 130}).to(GetParam()).requires_grad_();
    auto r = at::randn({7, 130}).to(residual_type).requires_grad_();
    auto g = at::randn({7, 130});
    torch::manual_seed(5);
    auto fused = dropout_add(x, r, 0.1, true);
    fused.backward(g.to(fused.scalar_type()));
    auto fused_gx = x.grad().clone(), fused_gr = r.grad().clone();
    x.mutable_grad().reset(), r.mutable_grad().reset();
    torch::manual_seed(5);
    auto plain = model::dropout(x, 0.1, true) + r;
    plain.backward(g.to(plain.scalar_type()));
    ASSERT_EQ(fused.scalar_type(), plain.scalar_type());
    // Equal in fp32; with bf16 x the composition rounds dropout's result (and the incoming gradient) to bf16
    // first, the fused kernel only its output.
    auto tx = tolerance(c10::kCPU, GetParam());
    EXPECT_TRUE(values_close(fused, plain, tx)) << "residual " << residual_type;
    EXPECT_TRUE(values_close(fused_gx, x.grad(), tx)) << "residual " << residual_type;
    EXPECT_TRUE(values_close(fused_gr, r.grad(), tx)) << "residual " << residual_type;
    if (GetParam() == at::kFloat && residual_type == at::kFloat) {
      EXPECT_TRUE(at::equal(fused, plain));
      EXPECT_TRUE(at::equal(fused_gx, x.grad()));
      EXPECT_TRUE(at::equal(fused_gr, r.grad()));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, DropoutTest, ::testing::Values(at::kFloat, at::kBFloat16),
                         [](const auto& info) { return std::string(c10::toString(info.param)); });

TEST(Dropout, IsTheIdentityInEvalModeOrWithoutProbability) {
  auto x = at::randn({10}), r = at::randn({10});
  EXPECT_TRUE(at::equal(model::dropout(x, 0.1, false), x));
  EXPECT_TRUE(at::equal(model::dropout(x, 0.0, true), x));
  EXPECT_TRUE(at::equal(dropout_add(x, r, 0.1, false), x + r));
  EXPECT_THROW(model::dropout(x, 1.0, true), bertforge::Error);
  EXPECT_THROW(model::dropout(x, -0.1, true), bertforge::Error);
}

// Other devices take at::dropout (that device's generator): same keep rate and scale.
TEST(Dropout, FallsBackToAtenOnCuda) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  auto y = model::dropout(at::ones({kN}, at::TensorOptions().device(at::kCUDA)), 0.1, true).cpu();
  EXPECT_NEAR(y.ne(0).to(at::kDouble).mean().item<double>(), 0.9, 5 * std::sqrt(0.09 / kN));
  EXPECT_NEAR(y.max().item<double>(), 1 / 0.9, 1e-6);
}
