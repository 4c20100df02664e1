// bench_model: forward+backward throughput of bertforge's BertForPreTraining, and this machine's matmul
// peak, for bench/model.py (which runs HF beside it and computes ratios and MFU). Prints one JSON line.
//
//   bench_model --config base [--batch 8 --seq 128 --iters 3 --warmup 1 --threads N --sparse-mlm]
//               [--bf16 [--plain-autocast]] [--aten-dropout] [--attention-dropout P]
//   bench_model --peak [--threads N] [--dtype float|bfloat16] [--mkn 1024,768,3072]
//                                         // best FLOP/s of [m x k] x [k x n] matmuls (default 2048^3 fp32)
//
// The batch is random ids without padding, 15% of positions labelled, random NSP labels; train mode
// (dropout on), as in pre-training. Each timed iteration is forward, backward and zero_grad. The switches
// turn this project's techniques off one by one: --aten-dropout (at::dropout and SDPA's own attention
// dropout instead of model/dropout.h), --plain-autocast (an fp32 residual stream under bf16 autocast).
#include <ATen/ops/mm.h>
#include <ATen/ops/rand.h>
#include <ATen/ops/randint.h>
#include <CLI/CLI.hpp>
#include <torch/utils.h>

#include <chrono>
#include <cstdio>

#include "bertforge/model/autocast.h"
#include "bertforge/model/bert.h"
#include "bertforge/model/dropout.h"
#include "bertforge/util/threads.h"

using namespace bertforge::model;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double matmul_peak(std::int64_t m, std::int64_t k, std::int64_t n, at::ScalarType dtype, int reps) {
  auto a = at::rand({m, k}).to(dtype), b = at::rand({k, n}).to(dtype);
  at::mm(a, b);  // warm-up: thread pool, caches, oneDNN's kernel for this shape
  double best = 0;
  for (int i = 0; i < reps; ++i) {
    auto t = Clock::now();
    auto c = at::mm(a, b);
    best = std::max(best, 2.0 * m * k * n / seconds_since(t));
  }
  return best;
}

double train_step_seconds(BertForPreTraining& m, std::int64_t batch, std::int64_t seq, int warmup, int iters,
                          at::ScalarType dtype) {
  auto ids = at::randint(1000, m->config.vocab_size, {batch, seq}, at::kLong);
  auto types = (at::arange(seq, at::kLong) >= seq / 2).to(at::kLong).expand({batch, seq}).contiguous();
  auto mask = at::ones({batch, seq}, at::kLong);
  auto labels = at::where(at::rand({batch, seq}) < 0.15, ids, at::full({}, -100, at::kLong));
  auto nsp = at::randint(0, 2, {batch}, at::kLong);
  auto step = [&] {
    BertForPreTrainingOutput out;
    {
      Autocast mixed(c10::kCPU, dtype);
      out = m(ids, types, mask, labels, nsp);
    }
    out.loss.backward();
    m->zero_grad();
  };
  for (int i = 0; i < warmup; ++i) step();
  auto t = Clock::now();
  for (int i = 0; i < iters; ++i) step();
  return seconds_since(t) / iters;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bertforge model benchmark"};
  std::string config;
  std::int64_t batch = 8, seq = 128;
  int iters = 3, warmup = 1, threads = 0;
  bool peak = false, sparse = false;
  std::string dtype = "float";
  std::vector<std::int64_t> mkn{2048, 2048, 2048};
  double attention_dropout = -1;
  bool bf16 = false, plain_autocast = false, aten_dropout = false;
  app.add_option("--config", config, "preset or config.json");
  app.add_flag("--peak", peak, "measure the matmul peak instead");
  app.add_option("--dtype", dtype, "--peak: float or bfloat16")->check(CLI::IsMember({"float", "bfloat16"}));
  app.add_option("--mkn", mkn, "--peak: [m x k] x [k x n]")->delimiter(',')->expected(3);
  app.add_option("--batch", batch);
  app.add_option("--seq", seq);
  app.add_option("--iters", iters);
  app.add_option("--warmup", warmup);
  app.add_option("--threads", threads);
  app.add_flag("--sparse-mlm", sparse);
  app.add_flag("--bf16", bf16, "bfloat16 autocast");
  app.add_flag("--plain-autocast", plain_autocast, "fp32 activations between the layers under autocast");
  app.add_flag("--aten-dropout", aten_dropout, "at::dropout and SDPA's dropout instead of the fused kernels");
  app.add_option("--attention-dropout", attention_dropout, "override attention_probs_dropout_prob");
  CLI11_PARSE(app, argc, argv);
  threads = bertforge::set_threads(threads);
  if (peak) {
    auto type = dtype == "float" ? at::kFloat : at::kBFloat16;
    std::printf("{\"peak_flops\": %.6g, \"threads\": %d}\n", matmul_peak(mkn[0], mkn[1], mkn[2], type, 10), threads);
    return 0;
  }
  const at::ScalarType precision = bf16 ? at::kBFloat16 : at::kFloat;
  set_fused_dropout(!aten_dropout);
  torch::manual_seed(0);
  BertConfig c = BertConfig::preset_or_file(config);
  if (attention_dropout >= 0) c.attention_probs_dropout_prob = attention_dropout;
  BertForPreTraining m(c);
  m->train();
  m->sparse_mlm = sparse;
  m->bert->low_precision_activations = !plain_autocast;
  double s = train_step_seconds(m, batch, seq, warmup, iters, precision);
  std::printf("{\"seq_per_s\": %.6g, \"step_s\": %.6g, \"threads\": %d}\n", batch / s, s, threads);
  return 0;
}
