// Dropout for training, drawn by a counter-based generator: on CPU one pass writes the output and a compact
// keep mask (uint8), and the backward is grad * mask / (1 - p). It replaces at::dropout, whose bernoulli_
// draw, separate multiply and float mask cost about a fifth of a BERT training step.
//
//   y = dropout(x, p, is_training());                 // x * keep / (1 - p)
//   z = dropout_add(x, residual, p, is_training());   // dropout(x) + residual, one pass (BertSelfOutput, BertOutput)
//
// Draws: element i of a call keeps when draw(key, i) >= p * 2^32, where draw is Philox4x32-10 (Salmon et al.,
// SC'11; the generator behind cuRAND and torch's CUDA dropout) at a counter derived from i, and key is 64 bits
// taken from LibTorch's default CPU generator once per call. So every draw is a pure function of (key, i), the
// result does not depend on the thread count, and seeding (torch::manual_seed) and the RNG state that
// checkpoints save reproduce the masks exactly, as with at::dropout.
//
// Inputs: any shape, fp32 or bf16 (residual the same shape, fp32 or bf16; the output has their promoted type).
// Identity (plus residual) when !train or p == 0. On other devices, or other dtypes, both fall back to
// at::dropout (which draws from that device's generator); p must lie in [0, 1).
#pragma once
#include <ATen/core/Tensor.h>

namespace bertforge::model {

at::Tensor dropout(const at::Tensor& x, double p, bool train);
at::Tensor dropout_add(const at::Tensor& x, const at::Tensor& residual, double p, bool train);

// A process-wide switch for measuring the kernels on and off (default on): off, dropout and dropout_add take
// at::dropout on every device and model/attention.h leaves attention dropout to SDPA.
void set_fused_dropout(bool on);
bool fused_dropout();

}  // namespace bertforge::model
