// dist_toy_train: a small data-parallel training run for the distributed tests. A two-layer MLP learns a
// fixed random regression task with plain SGD; each optimizer step takes the next global batch of
// `--global-batch` samples, of which rank r takes the r-th contiguous share (split further into
// `--accum` micro-batches). Each rank starts from a different seed, so only the broadcast from rank 0 makes
// them agree; a one-process run (seed of rank 0) is the reference the tests compare with.
//
// Rank 0 prints "step K loss L" per step (L: mean over ranks) and, with --out, writes every parameter value.
// Faults for the tests: --die-rank R --die-at-step S kills rank R with SIGKILL at step S (before backward);
// --hang-rank R --hang-at-step S makes it sleep instead.
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <thread>

#include "bertforge/dist/world.h"

int main(int argc, char** argv) {
  CLI::App app{"distributed test trainer"};
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // tests override defaults
  int steps = 5, global_batch = 8, accum = 1, die_rank = -1, die_at = -1, hang_rank = -1, hang_at = -1, perturb_rank = -1;
  long timeout_ms = 10000;
  std::size_t bucket_bytes = 512;
  bool verify = false;
  std::string out;
  app.add_option("--steps", steps);
  app.add_option("--global-batch", global_batch);
  app.add_option("--accum", accum);
  app.add_option("--bucket-bytes", bucket_bytes);
  app.add_option("--dist-timeout-ms", timeout_ms);
  app.add_option("--out", out);
  app.add_flag("--verify", verify);
  app.add_option("--die-rank", die_rank);
  app.add_option("--die-at-step", die_at);
  app.add_option("--hang-rank", hang_rank);
  app.add_option("--hang-at-step", hang_at);
  app.add_option("--perturb-rank", perturb_rank, "changes one bit of the last parameter on this rank after the broadcast");
  CLI11_PARSE(app, argc, argv);
  try {
    at::set_num_threads(1);
    bertforge::dist::WorldOptions wo;
    wo.timeout = std::chrono::milliseconds(timeout_ms);
    wo.bucket_bytes = bucket_bytes;
    auto world = bertforge::dist::from_environment(wo);
    const int rank = world->rank(), size = world->size();

    torch::manual_seed(100 + rank);
    torch::nn::Sequential model(torch::nn::Linear(16, 32), torch::nn::Tanh(), torch::nn::Linear(32, 8),
                                torch::nn::Tanh(), torch::nn::Linear(8, 4));
    std::vector<std::string> names;
    std::vector<at::Tensor> params;
    for (auto& p : model->named_parameters()) names.push_back(p.key()), params.push_back(p.value());
    world->attach_parameters(params);
    if (rank == perturb_rank) {
      torch::NoGradGuard no_grad;
      params.back().view(at::kInt).flatten()[0].bitwise_xor_(1);
    }
    if (verify) world->verify_parameters(names, params);

    torch::Generator data_gen = at::detail::createCPUGenerator(7);
    at::Tensor x = at::randn({steps * global_batch, 16}, data_gen);
    at::Tensor y = at::randn({steps * global_batch, 4}, data_gen);
    const int local = global_batch / size, micro = local / accum;
    for (int step = 0; step < steps; ++step) {
      for (auto& p : params) p.mutable_grad() = at::Tensor();
      double loss_sum = 0;
      for (int m = 0; m < accum; ++m) {
        std::int64_t start = static_cast<std::int64_t>(step) * global_batch + rank * local + m * micro;
        at::Tensor loss = torch::mse_loss(model->forward(x.narrow(0, start, micro)), y.narrow(0, start, micro));
        if (rank == die_rank && step == die_at) std::raise(SIGKILL);
        if (rank == hang_rank && step == hang_at) {
          std::fprintf(stderr, "rank %d hangs at step %d\n", rank, step);  // tests wait for this line
          std::this_thread::sleep_for(std::chrono::hours(1));
        }
        world->sync_next_backward(m == accum - 1);
        (loss / accum).backward();
        loss_sum += loss.item<double>() / accum;
      }
      world->sync_gradients(params);
      {
        torch::NoGradGuard no_grad;
        for (auto& p : params) p.sub_(p.grad() * 0.1);
      }
      double loss = world->sum({loss_sum})[0] / world->size();
      if (rank == 0) std::printf("step %d loss %.9g\n", step + 1, loss);
      std::fflush(stdout);
    }
    if (verify) world->verify_parameters(names, params);
    if (rank == 0 && !out.empty()) {
      std::ofstream f(out);
      f.precision(9);
      for (std::size_t k = 0; k < params.size(); ++k) {
        at::Tensor v = params[k].detach().reshape(-1);
        for (std::int64_t i = 0; i < v.numel(); ++i) f << names[k] << ' ' << v[i].item<float>() << '\n';
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dist_toy_train: error: %s\n", e.what());
    return 1;
  }
}
