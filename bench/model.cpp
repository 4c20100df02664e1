// bench_model: forward+backward throughput of bertforge's BertForPreTraining, and this machine's matmul
// peak, for bench/model.py (which runs HF beside it and computes ratios and MFU). Prints one JSON line.
//
//   bench_model --config base [--batch 8 --seq 128 --iters 3 --warmup 1 --threads N --sparse-mlm]
//               [--bf16 [--plain-autocast]] [--aten-dropout] [--attention-dropout P]
//   bench_model --config base --data PREPARED [--sampling group_by_length] [--no-unpad] [--no-prune] [...]
//   bench_model --config base [...] --profile TRACE.json
//                                         // LibTorch's profiler over the timed iterations (a Chrome trace;
//                                         // bench/op_times.py sums its self times by op); their times then
//                                         // carry the profiler's overhead
//   bench_model --peak [--threads N] [--dtype float|bfloat16] [--mkn 1024,768,3072] [--gemm aten|onednn]
//                                         // best FLOP/s of [m x k] x [k x n] matmuls (default 2048^3 fp32);
//                                         // --gemm onednn: fp32 through oneDNN's GEMM (model/linear.h)
//
// The batch is random ids without padding, 15% of positions labelled, random NSP labels; train mode
// (dropout on), as in pre-training. Each timed iteration is forward, backward and zero_grad. The switches
// turn this project's techniques off one by one: --aten-dropout (at::dropout and SDPA's own attention
// dropout instead of model/dropout.h), --plain-autocast (an fp32 residual stream under bf16 autocast),
// --no-unpad (padding computed too), --no-prune (the last layer computed at every position). With --data,
// the batches are the training loader's over that prepared folder instead (padded to each batch's longest,
// HF masking, the sparse MLM head as the Trainer runs it; made before the clock starts).
#include <ATen/ops/empty.h>
#include <ATen/ops/mm.h>
#include <ATen/ops/rand.h>
#include <ATen/ops/randint.h>
#include <CLI/CLI.hpp>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/utils.h>

#include <chrono>
#include <cstdio>
#include <optional>

#include "bertforge/data/loader.h"
#include "bertforge/model/autocast.h"
#include "bertforge/model/bert.h"
#include "bertforge/model/dropout.h"
#include "bertforge/model/onednn_gemm.h"
#include "bertforge/util/threads.h"

using namespace bertforge::model;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double matmul_peak(std::int64_t m, std::int64_t k, std::int64_t n, at::ScalarType dtype, bool onednn, int reps) {
  auto a = at::rand({m, k}).to(dtype), b = at::rand({k, n}).to(dtype);
  auto product = [&] {
    if (!onednn) return at::mm(a, b);
    at::Tensor c = at::empty({m, n});
    onednn_sgemm(false, false, m, n, k, a.const_data_ptr<float>(), k, b.const_data_ptr<float>(), n, 0.0f,
                 c.mutable_data_ptr<float>(), n);
    return c;
  };
  product();  // warm-up: thread pool, caches, oneDNN's kernel for this shape
  double best = 0;
  for (int i = 0; i < reps; ++i) {
    auto t = Clock::now();
    product();
    best = std::max(best, 2.0 * m * k * n / seconds_since(t));
  }
  return best;
}

bertforge::data::Batch random_batch(std::int64_t vocab, std::int64_t batch, std::int64_t seq) {
  bertforge::data::Batch b;
  b.input_ids = at::randint(1000, vocab, {batch, seq}, at::kLong);
  b.token_type_ids = (at::arange(seq, at::kLong) >= seq / 2).to(at::kLong).expand({batch, seq}).contiguous();
  b.attention_mask = at::ones({batch, seq}, at::kLong);
  b.labels = at::where(at::rand({batch, seq}) < 0.15, b.input_ids, at::full({}, -100, at::kLong));
  b.sentence_label = at::randint(0, 2, {batch}, at::kLong);
  return b;
}

struct Timing {
  double step_s = 0;
  std::int64_t real_tokens = 0, padded_tokens = 0;  // over the timed batches
};

Timing time_steps(BertForPreTraining& m, const std::vector<bertforge::data::Batch>& batches, int warmup,
                  c10::ScalarType precision, const std::string& profile) {
  auto step = [&](const bertforge::data::Batch& b) {
    at::Tensor loss;
    {
      Autocast mixed(c10::kCPU, precision);
      loss = m(b.input_ids, b.token_type_ids, b.attention_mask, b.labels, b.sentence_label).loss;
    }
    loss.backward();
    m->zero_grad();
  };
  for (int i = 0; i < warmup; ++i) step(batches[i]);
  Timing t;
  std::optional<torch::autograd::profiler::RecordProfile> trace;
  if (!profile.empty()) trace.emplace(profile);
  auto start = Clock::now();
  for (std::size_t i = warmup; i < batches.size(); ++i) {
    step(batches[i]);
    t.real_tokens += batches[i].attention_mask.sum().item<std::int64_t>();
    t.padded_tokens += batches[i].attention_mask.numel();
  }
  t.step_s = seconds_since(start) / static_cast<double>(batches.size() - warmup);
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bertforge model benchmark"};
  std::string config;
  std::int64_t batch = 8, seq = 128;
  int iters = 3, warmup = 1, threads = 0;
  bool peak = false, sparse = false, no_unpad = false, no_prune = false;
  std::string dtype = "float", data, sampling = "random", gemm = "aten", profile;
  std::vector<std::int64_t> mkn{2048, 2048, 2048};
  double attention_dropout = -1;
  bool bf16 = false, plain_autocast = false, aten_dropout = false;
  app.add_option("--config", config, "preset or config.json");
  app.add_flag("--peak", peak, "measure the matmul peak instead");
  app.add_option("--dtype", dtype, "--peak: float or bfloat16")->check(CLI::IsMember({"float", "bfloat16"}));
  app.add_option("--mkn", mkn, "--peak: [m x k] x [k x n]")->delimiter(',')->expected(3);
  app.add_option("--gemm", gemm, "--peak, float: the GEMM library")->check(CLI::IsMember({"aten", "onednn"}));
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
  app.add_option("--data", data, "prepared folder to take the batches from (implies --sparse-mlm)");
  app.add_option("--sampling", sampling, "with --data: random, sequential or group_by_length");
  app.add_flag("--no-unpad", no_unpad, "compute padding as well");
  app.add_option("--profile", profile, "write a Chrome trace of the timed iterations to this file");
  app.add_flag("--no-prune", no_prune, "compute the last layer at every position, not only where the heads read");
  CLI11_PARSE(app, argc, argv);
  threads = bertforge::set_threads(threads);
  if (peak) {
    auto type = dtype == "float" ? at::kFloat : at::kBFloat16;
    const double flops = matmul_peak(mkn[0], mkn[1], mkn[2], type, gemm == "onednn", 10);
    std::printf("{\"peak_flops\": %.6g, \"threads\": %d}\n", flops, threads);
    return 0;
  }
  const at::ScalarType precision = bf16 ? at::kBFloat16 : at::kFloat;
  set_fused_dropout(!aten_dropout);
  torch::manual_seed(0);
  BertConfig c = BertConfig::preset_or_file(config);
  if (attention_dropout >= 0) c.attention_probs_dropout_prob = attention_dropout;
  std::vector<bertforge::data::Batch> batches;
  if (data.empty()) {
    for (int i = 0; i < warmup + iters; ++i) batches.push_back(random_batch(c.vocab_size, batch, seq));
  } else {
    auto shards = std::make_shared<const bertforge::data::ShardSet>(data);
    c.vocab_size = shards->meta().vocab_size;
    bertforge::data::LoaderOptions o;
    o.batch_size = static_cast<int>(batch);
    o.sampling = bertforge::data::sampling_from_name(sampling);
    o.prefetch = 0;
    bertforge::data::Loader loader(shards, o);
    while (static_cast<int>(batches.size()) < warmup + iters)
      if (auto b = loader.next()) batches.push_back(std::move(*b));
    sparse = true;
  }
  BertForPreTraining m(c);
  m->train();
  m->sparse_mlm = sparse;
  m->unpad = !no_unpad;
  m->prune_last_layer = !no_prune;
  m->bert->low_precision_activations = !plain_autocast;
  Timing t = time_steps(m, batches, warmup, precision, profile);
  std::printf("{\"seq_per_s\": %.6g, \"step_s\": %.6g, \"real_tokens\": %lld, \"padded_tokens\": %lld, "
              "\"threads\": %d}\n",
              batch / t.step_s, t.step_s, static_cast<long long>(t.real_tokens),
              static_cast<long long>(t.padded_tokens), threads);
  return 0;
}
