#include "bertforge/model/linear.h"

#include <ATen/autocast_mode.h>
#include <ATen/ops/linear.h>
#include <ATen/record_function.h>
#include <torch/autograd.h>

#include <cstdlib>

#include "bertforge/model/onednn_gemm.h"
#include "bertforge/util/error.h"

namespace bertforge::model {
namespace {

// Row-major c = op(a) op(b) + beta c through oneDNN; a, b, c contiguous fp32 matrices.
void gemm(bool trans_a, bool trans_b, const at::Tensor& a, const at::Tensor& b, float beta, at::Tensor& c) {
  RECORD_FUNCTION("bertforge::onednn_sgemm", c10::ArrayRef<const c10::IValue>{});  // named in profiles
  const std::int64_t k = trans_a ? a.size(0) : a.size(1);
  onednn_sgemm(trans_a, trans_b, c.size(0), c.size(1), k, a.const_data_ptr<float>(), a.size(1),
               b.const_data_ptr<float>(), b.size(1), beta, c.mutable_data_ptr<float>(), c.size(1));
}

struct OneDnnLinear : torch::autograd::Function<OneDnnLinear> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                            const at::Tensor& bias) {
    const at::Tensor rows = x.reshape({-1, x.size(-1)}).contiguous(), w = weight.contiguous();
    // The GEMM adds onto a copy of the bias in every row (for one row, expand().contiguous() would be the bias
    // itself, and the GEMM would write into the parameter).
    at::Tensor y = at::empty({rows.size(0), w.size(0)}, rows.options());
    y.copy_(bias.expand_as(y));
    gemm(false, true, rows, w, 1.0f, y);
    ctx->save_for_backward({rows, w});
    auto shape = x.sizes().vec();
    shape.back() = w.size(0);
    return y.view(shape);
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& rows = saved[0];
    const at::Tensor& w = saved[1];
    const at::Tensor dy = grads[0].reshape({-1, w.size(0)}).contiguous();
    at::Tensor dx, dw, db;
    if (ctx->needs_input_grad(0)) {
      dx = at::empty_like(rows);
      gemm(false, false, dy, w, 0.0f, dx);  // dy W
      auto shape = grads[0].sizes().vec();
      shape.back() = w.size(1);
      dx = dx.view(shape);
    }
    if (ctx->needs_input_grad(1)) {
      dw = at::empty_like(w);
      gemm(true, false, dy, rows, 0.0f, dw);  // dy^T x
    }
    if (ctx->needs_input_grad(2)) db = dy.sum(0);
    return {dx, dw, db};
  }
};

struct GemmDecision {
  CpuGemm gemm;
  std::string reason;  // what made the choice, for describe_cpu_gemm()
};

// Made once per process: the env variable is read and the library opened (auto, onednn) a single time.
const GemmDecision& decision() {
  static const GemmDecision d = [] {
    const char* env = std::getenv("BERTFORGE_CPU_GEMM");
    const std::string asked = env && *env ? env : "auto";
    if (asked == "aten") return GemmDecision{CpuGemm::aten, "BERTFORGE_CPU_GEMM"};
    if (asked != "auto" && asked != "onednn")
      throw Error("BERTFORGE_CPU_GEMM: '" + asked + "' is not one of auto, aten, onednn");
    std::string why;
    const bool loads = onednn_available(&why);
    if (asked == "onednn") {
      if (!loads) throw Error("BERTFORGE_CPU_GEMM=onednn: oneDNN's library does not load: " + why);
      return GemmDecision{CpuGemm::onednn, "BERTFORGE_CPU_GEMM"};
    }
    const CpuInfo cpu = cpu_info();
    return GemmDecision{cpu_gemm_choice(cpu, loads), "auto: " + (cpu.vendor.empty() ? "unknown" : cpu.vendor) +
                                                         " CPU, oneDNN " + (loads ? "loads" : "not found")};
  }();
  return d;
}

bool on_onednn(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  return x.device().is_cpu() && x.scalar_type() == at::kFloat && weight.scalar_type() == at::kFloat &&
         bias.defined() && bias.scalar_type() == at::kFloat && x.numel() > 0 &&
         !at::autocast::is_autocast_enabled(at::kCPU) && cpu_gemm() == CpuGemm::onednn;
}

}  // namespace

const char* gemm_name(CpuGemm g) { return g == CpuGemm::onednn ? "onednn" : "aten"; }

CpuGemm cpu_gemm_choice(const CpuInfo& cpu, bool onednn_loads) {
  return onednn_loads && cpu.vendor == "AuthenticAMD" ? CpuGemm::onednn : CpuGemm::aten;
}

CpuGemm cpu_gemm() { return decision().gemm; }

std::string describe_cpu_gemm() { return std::string(gemm_name(cpu_gemm())) + " (" + decision().reason + ")"; }

at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  if (!on_onednn(x, weight, bias)) return at::linear(x, weight, bias);
  return OneDnnLinear::apply(x, weight, bias);
}

at::Tensor onednn_linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  return OneDnnLinear::apply(x, weight, bias);
}

at::Tensor linear(const torch::nn::Linear& layer, const at::Tensor& x) { return linear(x, layer->weight, layer->bias); }

}  // namespace bertforge::model
