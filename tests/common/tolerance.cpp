#include "common/tolerance.h"

#include <ATen/ATen.h>  // tensor arithmetic

#include <algorithm>

#include "bertforge/util/json_file.h"
#include "common/paths.h"

namespace bertforge::testing {
namespace {

at::Tensor f64(const at::Tensor& t) { return t.detach().to(at::kCPU, at::kDouble); }

const nlohmann::json& table() {
  static const nlohmann::json t = read_json_file(source_dir() + "/tests/common/tolerance.json", "tolerance table");
  return t;
}

Tolerance row(const nlohmann::json& e) {
  return {e.at("values").get<double>(), e.at("loss").get<double>(), e.at("grad").get<double>()};
}

}  // namespace

Tolerance tolerance(c10::DeviceType device, at::ScalarType dtype) {
  return row(table().at(device == c10::kCUDA ? "cuda" : "cpu").at(dtype == at::kBFloat16 ? "bfloat16" : "float32"));
}

Tolerance reordered() { return row(table().at("reordered")); }

double grad_floor(const std::vector<at::Tensor>& grads) {
  double largest = 0;
  for (const auto& g : grads) largest = std::max(largest, g.detach().abs().max().item<double>());
  return table().at("grad_floor").get<double>() * largest;
}

bool values_close(const at::Tensor& got, const at::Tensor& want, const Tolerance& t) {
  auto w = f64(want);
  return ((f64(got) - w).abs() <= t.values * (1 + w.abs())).all().item<bool>();
}

bool loss_close(const at::Tensor& got, const at::Tensor& want, const Tolerance& t) {
  double w = f64(want).item<double>();
  return std::abs(f64(got).item<double>() - w) <= t.loss * std::abs(w);
}

bool grad_close(const at::Tensor& got, const at::Tensor& want, const Tolerance& t, double floor) {
  auto w = f64(want);
  return (f64(got) - w).abs().max().item<double>() <= t.grad * std::max(w.abs().max().item<double>(), floor);
}

}  // namespace bertforge::testing
