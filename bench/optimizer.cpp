// bench_optimizer: seconds per Optimizer::step over a model's parameters, for each optimizer kind, in one run
// (the fused kernels against the single-tensor path). Prints one JSON line.
//
//   bench_optimizer [--config base] [--kinds adamw_torch_fused adamw_torch adam_torch_fused adam lamb]
//                   [--iters 5] [--threads N]
//
// Gradients are random and fixed; weight decay 0.01 so both parameter groups are exercised. The kinds run
// round-robin, iteration by iteration (the machine may be shared), and each kind's best step is kept.
#include <ATen/ATen.h>
#include <CLI/CLI.hpp>
#include <torch/utils.h>

#include <chrono>
#include <cstdio>
#include <map>

#include "bertforge/model/bert.h"
#include "bertforge/train/optimizer.h"
#include "bertforge/util/threads.h"

using namespace bertforge;

int main(int argc, char** argv) {
  CLI::App app{"bertforge optimizer step benchmark"};
  std::string config = "base";
  std::vector<std::string> kinds{"adamw_torch_fused", "adamw_torch"};  // each holds 2 moments per parameter
  int iters = 5, threads = 0;
  app.add_option("--config", config, "preset or config.json");
  app.add_option("--kinds", kinds);
  app.add_option("--iters", iters);
  app.add_option("--threads", threads);
  CLI11_PARSE(app, argc, argv);
  threads = set_threads(threads);
  torch::manual_seed(0);
  model::BertForPreTraining m(model::BertConfig::preset_or_file(config));
  std::vector<train::NamedTensor> params;
  std::int64_t numel = 0;
  for (const auto& p : m->named_parameters()) {
    params.push_back({p.key(), p.value()});
    p.value().mutable_grad() = at::randn_like(p.value()) * 1e-3;
    numel += p.value().numel();
  }
  std::map<std::string, std::unique_ptr<train::Optimizer>> optimizers;
  std::map<std::string, double> best;
  for (const auto& k : kinds) {
    optimizers[k] = std::make_unique<train::Optimizer>(params, train::OptimizerOptions{k, 0.9, 0.999, 1e-8, 0.01});
    optimizers[k]->step(1e-6);  // warm-up: first-touch of the moment buffers
  }
  for (int i = 0; i < iters; ++i) {
    for (const auto& k : kinds) {
      auto t = std::chrono::steady_clock::now();
      optimizers[k]->step(1e-6);
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
      if (!best.count(k) || s < best[k]) best[k] = s;
    }
  }
  std::printf("{\"config\": \"%s\", \"parameters\": %lld, \"threads\": %d, \"best_step_s\": {", config.c_str(),
              static_cast<long long>(numel), threads);
  for (std::size_t i = 0; i < kinds.size(); ++i)
    std::printf("%s\"%s\": %.6g", i ? ", " : "", kinds[i].c_str(), best[kinds[i]]);
  std::printf("}}\n");
  return 0;
}
