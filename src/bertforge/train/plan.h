// What a pre-training run will take, worked out before it starts (`pretrain --dry_run`): memory for the
// weights, gradients, optimizer state and one batch's activations, and disk per checkpoint. Estimates from
// the model's shape, with these methods:
// - weights and gradients: fp32, 4 bytes per parameter each (bf16 autocast casts per matmul, keeping fp32
//   masters). Optimizer state: adam, adamw_torch(_fused) and lamb keep two fp32 moments per parameter, sgd none.
// - activations: the tensors autograd keeps for backward, per encoder layer as counted by Korthikanti et al.
//   2022 ("Reducing Activation Recomputation in Large Transformer Models", section 4.1) for s tokens, batch
//   b, hidden h, intermediate i, a heads and e bytes per saved element (4 fp32, 2 under bf16 autocast), with
//   1-byte dropout masks: s·b·h·(8e + 2) + 2e·s·b·i + (2e + 1)·a·s²·b. The s² term is attention's
//   probabilities, kept when attention runs its plain path (training with dropout); a fused kernel keeps
//   none, so it is an upper bound. Plus the embeddings' output (e + 1)·s·b·h and the MLM head at the labelled
//   positions only (mlm_probability·s·b of them): 3e·h each and two fp32 vocabulary rows (logits and their
//   log-softmax).
// - a checkpoint: model.safetensors (4 bytes per parameter) plus optimizer_state.pt (the state above); the JSON
//   and RNG files are a few KiB.
#pragma once
#include <cstdint>
#include <string>

#include "bertforge/model/config.h"

namespace bertforge::train {

struct MemoryPlan {
  double weights = 0, gradients = 0, optimizer_state = 0, activations = 0;  // bytes
  double total() const { return weights + gradients + optimizer_state + activations; }
};

struct BatchShape {
  std::int64_t sequences = 0, length = 0;  // one micro-batch, padded to `length`
  double mlm_probability = 0.15;
  bool bf16 = false;
};

MemoryPlan estimate_memory(const model::BertConfig& config, std::int64_t parameters, const std::string& optim,
                           const BatchShape& batch);

// Bytes of one checkpoint folder (model.safetensors + optimizer_state.pt).
double checkpoint_bytes(std::int64_t parameters, const std::string& optim);

// "1.5 GiB", "320.0 MiB", "12.0 KiB", "512 B".
std::string human_bytes(double bytes);

}  // namespace bertforge::train
