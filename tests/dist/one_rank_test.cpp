// The c10d World on a single rank, per backend: Gloo on the CPU (runs everywhere) and NCCL on a GPU (skipped
// visibly without one). One rank is all a one-GPU machine can run, and it still goes through the backend's
// real collectives: all-reduce of the step totals (where the trainer's stop flag rides), broadcast of the
// parameters, bucketed gradient averaging, the barrier; a rank that never arrives times out with an Error.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <torch/cuda.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "bertforge/dist/world.h"
#include "bertforge/util/error.h"
#include "common/process.h"

namespace {

using bertforge::dist::WorldOptions;

// The variables a launcher sets, for this process only while the test runs.
class LaunchVariables {
 public:
  explicit LaunchVariables(const std::map<std::string, std::string>& vars) {
    for (const auto& [k, v] : vars) {
      const char* old = getenv(k.c_str());
      saved_[k] = old ? std::optional<std::string>(old) : std::nullopt;
      setenv(k.c_str(), v.c_str(), 1);
    }
  }
  ~LaunchVariables() {
    for (const auto& [k, v] : saved_) v ? setenv(k.c_str(), v->c_str(), 1) : unsetenv(k.c_str());
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

std::map<std::string, std::string> one_of(int world_size, int local_rank = 0) {
  return {{"RANK", "0"}, {"WORLD_SIZE", std::to_string(world_size)}, {"LOCAL_RANK", std::to_string(local_rank)},
          {"LOCAL_WORLD_SIZE", std::to_string(world_size)}, {"MASTER_ADDR", "127.0.0.1"},
          {"MASTER_PORT", std::to_string(bertforge::testing::free_port())}};
}

class OneRank : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "cuda" && !torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: NCCL not exercised";
  }
  at::Device device() const { return GetParam() == "cuda" ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU); }
  WorldOptions options(std::chrono::milliseconds timeout = std::chrono::seconds(30)) const {
    WorldOptions o;
    o.device = GetParam();
    o.timeout = timeout;
    o.bucket_bytes = 1024;  // several buckets for the small parameters below
    return o;
  }
};

TEST_P(OneRank, CollectivesKeepTheValuesOfTheOnlyRank) {
  LaunchVariables env(one_of(1));
  auto world = bertforge::dist::c10d_world(options());
  EXPECT_EQ(world->size(), 1);
  EXPECT_EQ(world->sum({1.5, -2.0, 1.0}), (std::vector<double>{1.5, -2.0, 1.0}));  // the last: a stop flag

  at::manual_seed(0);
  std::vector<at::Tensor> params{at::randn({300}, device()).requires_grad_(), at::randn({17, 9}, device()).requires_grad_()};
  std::vector<at::Tensor> before;
  for (const auto& p : params) before.push_back(p.detach().clone());
  world->attach_parameters(params);
  for (std::size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(at::equal(params[i], before[i]));

  (params[0].sum() * 2 + params[1].pow(2).sum()).backward();
  world->sync_gradients(params);
  EXPECT_TRUE(at::allclose(params[0].grad(), at::full_like(params[0], 2.0)));
  EXPECT_TRUE(at::allclose(params[1].grad(), 2 * before[1]));
  world->verify_parameters({"a", "b"}, params);
  world->barrier();
}

TEST_P(OneRank, ARankThatNeverArrivesTimesOut) {
  LaunchVariables env(one_of(2));  // a world of two, but the second rank is never started
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(bertforge::dist::c10d_world(options(std::chrono::seconds(2))), bertforge::Error);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
}

INSTANTIATE_TEST_SUITE_P(Backends, OneRank, ::testing::Values("cpu", "cuda"),
                         [](const auto& info) { return info.param == "cpu" ? std::string("Gloo") : std::string("Nccl"); });

TEST(OneRankNccl, LocalRankPastTheLastGpuIsAnError) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  LaunchVariables env(one_of(1, static_cast<int>(torch::cuda::device_count())));
  WorldOptions o;
  o.device = "cuda";
  try {
    bertforge::dist::c10d_world(o);
    FAIL() << "expected an Error";
  } catch (const bertforge::Error& e) {
    EXPECT_NE(std::string(e.what()).find("GPU(s)"), std::string::npos) << e.what();
  }
}

}  // namespace
