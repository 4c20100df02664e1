// What this CPU offers matrix products, so that --bf16 is never silently a hundred times slower. ATen's bf16
// GEMM is fast only with bf16 matrix instructions (AVX-512 BF16 dot products, AMX); without them it falls back
// to scalar code (measured 150x slower than fp32 on an AVX2-only AMD EPYC, Zen 3).
#pragma once
#include <c10/core/Device.h>

#include <string>
#include <vector>

namespace bertforge::model {

struct CpuInfo {
  std::string model;               // /proc/cpuinfo's model name
  std::string vendor;              // its vendor_id: GenuineIntel, AuthenticAMD, ...
  std::string capability;          // ATen's kernel level (DEFAULT, AVX2, AVX512; ATEN_CPU_CAPABILITY lowers it)
  std::vector<std::string> flags;  // of avx2, avx512f, avx512_bf16, amx_bf16, amx_tile: those present
  bool bf16_matrix() const;        // avx512_bf16 or amx_bf16
};
// This CPU. BERTFORGE_CPU_FLAGS (flags separated by spaces) stands in for /proc/cpuinfo's flags, so that tests
// can play a CPU with or without bf16 matrix instructions.
CpuInfo cpu_info();

// TFLOP/s of a [256 x 256] x [256 x 256] product in each dtype on the current threads, measured for about 20 ms
// each after a warm-up.
struct MatmulRates {
  double fp32 = 0, bf16 = 0;
};
MatmulRates measure_matmul_rates();

// "model, ATen capability, flags" in one line (`bertforge version`, the benchmarks).
std::string describe(const CpuInfo& cpu);

// Before a command computes on `device`, when that is the CPU: settles the library of its fp32 GEMMs
// (model/linear.h's cpu_gemm(), so a bad BERTFORGE_CPU_GEMM is an Error up front) and, for --bf16 without bf16
// matrix instructions, prints one warning line with the measured rates of both dtypes and what to do.
void prepare_cpu(bool bf16, c10::Device device);

}  // namespace bertforge::model
