// bench_dist: what data-parallel training costs, run inside a launch (bench/dist.py drives it).
//   bench_dist allreduce [--mb 25] [--iters 20]   sync_gradients() on one bucket of MB megabytes: the Gloo
//                                                  all-reduce plus the copies in and out, as training sees it
//   bench_dist train [--model mini] [--batch 8] [--seq 128] [--steps 8]
//                                                  BertForPreTraining steps on random ids (15% MLM labels),
//                                                  forward + backward + sync_gradients + SGD update
// Rank 0 prints one JSON line. Threads: 1 per process (LibTorch intra-op), so 2 processes use the 2 cores.
#include <ATen/ATen.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>

#include "bertforge/dist/world.h"
#include "bertforge/model/bert.h"

using namespace bertforge;
using Clock = std::chrono::steady_clock;

namespace {
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void allreduce(dist::World& world, double mb, int iters) {
  at::Tensor p = at::zeros({static_cast<std::int64_t>(mb * (1 << 20) / 4)}).set_requires_grad(true);
  p.mutable_grad() = at::ones_like(p);
  world.sync_gradients({p});  // connects the pairs
  world.barrier();
  auto t = Clock::now();
  for (int i = 0; i < iters; ++i) world.sync_gradients({p});
  double s = seconds_since(t) / iters, bytes = static_cast<double>(p.numel()) * 4;
  int n = world.size();
  if (world.is_main())
    std::printf("{\"bench\": \"allreduce\", \"world\": %d, \"mb\": %.1f, \"ms\": %.2f, \"algo_gbps\": %.3f, "
                "\"bus_gbps\": %.3f}\n",
                n, mb, s * 1e3, bytes / s / 1e9, bytes * 2 * (n - 1) / n / s / 1e9);
}

void train(dist::World& world, const std::string& preset, int batch, int seq, int steps) {
  torch::manual_seed(0);
  model::BertForPreTraining m(model::BertConfig::preset(preset));
  m->train();
  auto params = m->parameters();
  world.attach_parameters(params);
  torch::manual_seed(1 + world.rank());
  std::int64_t vocab = m->config.vocab_size;
  auto step = [&] {
    at::Tensor ids = at::randint(vocab, {batch, seq}, at::kLong);
    at::Tensor labels = at::where(at::rand({batch, seq}) < 0.15, ids, at::full_like(ids, -100));
    at::Tensor nsp = at::randint(2, {batch}, at::kLong);
    for (auto& p : params) p.mutable_grad() = at::Tensor();
    m->forward(ids, {}, {}, labels, nsp).loss.backward();
    world.sync_gradients(params);
    torch::NoGradGuard no_grad;
    for (auto& p : params) p.sub_(p.grad() * 1e-4);
  };
  step();  // warm-up: allocations, pair connections
  world.barrier();
  auto t = Clock::now();
  for (int i = 0; i < steps; ++i) step();
  world.barrier();
  double s = seconds_since(t) / steps;
  if (world.is_main())
    std::printf("{\"bench\": \"train\", \"model\": \"%s\", \"world\": %d, \"batch_per_rank\": %d, \"seq\": %d, "
                "\"step_s\": %.4f, \"samples_per_s\": %.2f}\n",
                preset.c_str(), world.size(), batch, seq, s, batch * world.size() / s);
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"data-parallel costs: all-reduce bandwidth and training steps"};
  app.require_subcommand(1);
  double mb = 25;
  int iters = 20, batch = 8, seq = 128, steps = 8;
  std::string preset = "mini";
  auto* ar = app.add_subcommand("allreduce", "gradient bucket all-reduce bandwidth");
  ar->add_option("--mb", mb)->capture_default_str();
  ar->add_option("--iters", iters)->capture_default_str();
  auto* tr = app.add_subcommand("train", "BertForPreTraining steps");
  tr->add_option("--model", preset)->capture_default_str();
  tr->add_option("--batch", batch, "per process")->capture_default_str();
  tr->add_option("--seq", seq)->capture_default_str();
  tr->add_option("--steps", steps)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  at::set_num_threads(1);
  try {
    auto world = dist::from_environment();
    if (ar->parsed()) allreduce(*world, mb, iters);
    else train(*world, preset, batch, seq, steps);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_dist: %s\n", e.what());
    return 1;
  }
  return 0;
}
