// Linear layers, y = x W^T + b, as at::linear, with their fp32 CPU products (the forward one and both backward
// ones) on either of two GEMM libraries: ATen's (MKL in the PyPI wheel) or oneDNN's (model/onednn_gemm.h).
// MKL is Intel's; on AMD CPUs oneDNN's GEMM was measured faster on BERT's shapes (see cpu_gemm_choice()).
// bf16 (autocast), other devices and tensors without a bias stay with at::linear.
#pragma once
#include <torch/nn/modules/linear.h>

#include <string>

#include "bertforge/model/cpu_caps.h"

namespace bertforge::model {

enum class CpuGemm { aten, onednn };
const char* gemm_name(CpuGemm g);

// The rule behind "auto": oneDNN on AMD CPUs where its library loads, ATen elsewhere (Intel's own library
// on Intel's CPUs, and no measurement of other vendors).
CpuGemm cpu_gemm_choice(const CpuInfo& cpu, bool onednn_loads);

// This process's choice, made once: BERTFORGE_CPU_GEMM = aten, onednn or auto (the default: cpu_gemm_choice).
// Error for another value, or for onednn where its library does not load (naming the loader's message).
CpuGemm cpu_gemm();

// "onednn (auto: AMD CPU)", "aten (BERTFORGE_CPU_GEMM)": the choice and what made it, for version and --dry_run.
std::string describe_cpu_gemm();

// at::linear(x, weight, bias), x [..., in], weight [out, in], bias [out]; differentiable in all three.
at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);
at::Tensor linear(const torch::nn::Linear& layer, const at::Tensor& x);

// The oneDNN path itself, whatever cpu_gemm() says, so that tests and benchmarks hold the two side by side:
// CPU fp32 tensors, a bias, at least one row.
at::Tensor onednn_linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

}  // namespace bertforge::model
