// bench_dist: the gradient all-reduce as training sees it, run inside a launch (bench/dist.py drives it;
// training itself is measured through `bertforge pretrain`).
//   bench_dist [--mb 25] [--iters 20]   sync_gradients() on one bucket of MB megabytes, as training calls it:
//                                       through shared memory when every rank is on this machine (Gloo with
//                                       BERTFORGE_GRADIENT_ALLREDUCE=gloo or across machines)
// Rank 0 prints one JSON line. Threads: 1 per process (LibTorch intra-op), so 2 processes use the 2 cores.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>

#include "bertforge/dist/world.h"

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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gradient bucket all-reduce bandwidth"};
  double mb = 25;
  int iters = 20;
  app.add_option("--mb", mb)->capture_default_str();
  app.add_option("--iters", iters)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  at::set_num_threads(1);
  try {
    auto world = dist::from_environment();
    allreduce(*world, mb, iters);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_dist: %s\n", e.what());
    return 1;
  }
  return 0;
}
