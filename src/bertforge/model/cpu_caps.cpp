#include "bertforge/model/cpu_caps.h"

#include <ATen/ATen.h>
#include <ATen/Version.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "bertforge/model/linear.h"
#include "bertforge/util/messages.h"

namespace bertforge::model {

namespace {
const std::vector<std::string> kFlags{"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"};

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

double tflops(at::ScalarType dtype) {
  using Clock = std::chrono::steady_clock;
  const std::int64_t n = 256;
  at::Tensor a = at::randn({n, n}).to(dtype), b = at::randn({n, n}).to(dtype);
  (void)a.mm(b);  // kernel choice, allocations
  int runs = 0;
  const auto start = Clock::now();
  double seconds = 0;
  while (runs < 2 || seconds < 0.02) {
    (void)a.mm(b);
    ++runs;
    seconds = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return 2.0 * n * n * n * runs / seconds / 1e12;
}
}  // namespace

bool CpuInfo::bf16_matrix() const {
  return std::any_of(flags.begin(), flags.end(), [](const std::string& f) { return f == "avx512_bf16" || f == "amx_bf16"; });
}

CpuInfo cpu_info() {
  CpuInfo c;
  c.capability = at::get_cpu_capability();
  std::string flags;
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, line.find_first_of(" \t"));
    const std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "model" && line.rfind("model name", 0) == 0 && c.model.empty()) c.model = value;
    if (key == "vendor_id" && c.vendor.empty()) c.vendor = value;
    if (key == "flags" && flags.empty()) flags = value;
  }
  if (const char* fake = std::getenv("BERTFORGE_CPU_FLAGS")) flags = fake;
  const auto present = words(flags);
  for (const auto& f : kFlags)
    if (std::find(present.begin(), present.end(), f) != present.end()) c.flags.push_back(f);
  return c;
}

MatmulRates measure_matmul_rates() { return {tflops(at::kFloat), tflops(at::kBFloat16)}; }

std::string describe(const CpuInfo& cpu) {
  std::string flags;
  for (const auto& f : cpu.flags) flags += (flags.empty() ? "" : " ") + f;
  return (cpu.model.empty() ? "unknown CPU" : cpu.model) + ", ATen " + cpu.capability + ", flags: " +
         (flags.empty() ? "none of avx2 avx512f avx512_bf16 amx_bf16" : flags);
}

void prepare_cpu(bool bf16, c10::Device device) {
  if (!device.is_cpu()) return;
  (void)cpu_gemm();
  if (!bf16) return;
  const CpuInfo cpu = cpu_info();
  if (cpu.bf16_matrix()) return;
  const MatmulRates r = measure_matmul_rates();
  char line[512];
  std::snprintf(line, sizeof line,
                "--bf16: this CPU has no bf16 matrix instructions (%s): measured bf16 %.4f TFLOP/s against fp32 "
                "%.4f TFLOP/s (fp32 / bf16 = %.1f); leave out --bf16 to run in fp32",
                describe(cpu).c_str(), r.bf16, r.fp32, r.fp32 / std::max(r.bf16, 1e-12));
  warn(line);
}

}  // namespace bertforge::model
