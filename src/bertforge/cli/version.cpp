// `bertforge version`: what this binary was built with and what it sees, for bug reports.
#include <torch/version.h>
#include <torch/cuda.h>

#include <cstdio>

#include "bertforge/cli/commands.h"
#include "bertforge/model/cpu_caps.h"
#include "bertforge/model/linear.h"
#include "bertforge/util/threads.h"

namespace bertforge::cli {

Command add_version(CLI::App& parent) {
  auto* app = parent.add_subcommand("version", "print versions, devices and thread count");
  return {app, [] {
            std::printf("bertforge 0.1.0\nLibTorch %s\nCUDA devices %d\nthreads %d\n", TORCH_VERSION,
                        static_cast<int>(torch::cuda::device_count()), num_threads());
            const model::CpuInfo cpu = model::cpu_info();
            const model::MatmulRates r = model::measure_matmul_rates();
            std::printf("cpu %s\nbf16 matrix instructions %s\nmatmul TFLOP/s fp32 %.4f, bf16 %.4f (measured now)\n",
                        model::describe(cpu).c_str(), cpu.bf16_matrix() ? "yes" : "no (--bf16 is slow here)", r.fp32,
                        r.bf16);
            std::printf("fp32 linear layers on the CPU: %s\n", model::describe_cpu_gemm().c_str());
            return 0;
          }};
}

}  // namespace bertforge::cli
