#include "bertforge/train/optimizer.h"

#include <ATen/ATen.h>
#include <torch/serialize.h>  // pickle_load: reads torch.save's zip format
#include <torch/serialize/archive.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <regex>

#include "bertforge/train/checkpoint.h"  // save_archive
#include "bertforge/util/error.h"

namespace bertforge::train {

Optimizer::Optimizer(const std::vector<NamedTensor>& params, OptimizerOptions options)
    : options_(std::move(options)) {
  static const std::vector<std::string> kinds{"adam", "adamw_torch", "adamw_torch_fused", "lamb", "sgd"};
  if (std::find(kinds.begin(), kinds.end(), options_.kind) == kinds.end())
    throw Error("optim: unknown optimizer '" + options_.kind + "'");
  if (options_.kind == "adamw_torch_fused") options_.kind = "adamw_torch";
  bool moments = options_.kind != "sgd";
  for (const auto& p : params) {
    Slot s{p.name, p.tensor, decays(p.name) ? options_.weight_decay : 0.0, 0, {}, {}};
    if (moments) {
      s.exp_avg = at::zeros_like(p.tensor, at::MemoryFormat::Preserve);
      s.exp_avg_sq = at::zeros_like(p.tensor, at::MemoryFormat::Preserve);
    }
    slots_.push_back(std::move(s));
  }
}

bool Optimizer::decays(const std::string& name) {
  // transformers Trainer.get_decay_parameter_names' patterns, on the lower-cased name.
  static const std::regex forbidden(R"(bias|layernorm|rmsnorm|(?:^|\.)norm(?:$|\.)|_norm(?:$|\.))");
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  return !std::regex_search(lower, forbidden);
}

void Optimizer::step(double lr) {
  at::NoGradGuard no_grad;
  for (auto& s : slots_) {
    at::Tensor grad = s.param.grad();
    if (!grad.defined()) continue;
    ++s.step;
    if (options_.kind == "sgd") {
      if (s.weight_decay != 0) grad = grad.add(s.param, s.weight_decay);
      s.param.add_(grad, -lr);
    } else if (options_.kind == "lamb") {
      lamb_update(s, grad, lr);
    } else {
      adam_update(s, grad, lr);
    }
  }
}

// torch/optim/adam.py _single_tensor_adam (decoupled decay = AdamW), in its order of operations.
void Optimizer::adam_update(Slot& s, const at::Tensor& g, double lr) const {
  at::Tensor grad = g;
  if (s.weight_decay != 0) {
    if (options_.kind == "adamw_torch") s.param.mul_(1 - lr * s.weight_decay);
    else grad = grad.add(s.param, s.weight_decay);
  }
  s.exp_avg.lerp_(grad, 1 - options_.beta1);
  s.exp_avg_sq.mul_(options_.beta2).addcmul_(grad, grad, 1 - options_.beta2);
  double step = static_cast<double>(s.step);
  double bias_correction1 = 1 - std::pow(options_.beta1, step);
  double bias_correction2 = 1 - std::pow(options_.beta2, step);
  double step_size = lr / bias_correction1;
  double bias_correction2_sqrt = std::pow(bias_correction2, 0.5);
  at::Tensor denom = (s.exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(options_.eps);
  s.param.addcdiv_(s.exp_avg, denom, -step_size);
}

// apex multi_tensor_lamb (FusedLAMB as NVIDIA's BERT recipe uses it: bias correction, grad averaging,
// decoupled decay, trust ratio only where the tensor decays). Its internal clip by the global norm is the
// trainer's max_grad_norm clip, done before step().
void Optimizer::lamb_update(Slot& s, const at::Tensor& grad, double lr) const {
  s.exp_avg.mul_(options_.beta1).add_(grad, 1 - options_.beta1);
  s.exp_avg_sq.mul_(options_.beta2).addcmul_(grad, grad, 1 - options_.beta2);
  double step = static_cast<double>(s.step);
  at::Tensor m_hat = s.exp_avg / (1 - std::pow(options_.beta1, step));
  at::Tensor v_hat = s.exp_avg_sq / (1 - std::pow(options_.beta2, step));
  at::Tensor update = m_hat / (v_hat.sqrt() + options_.eps);
  if (s.weight_decay != 0) update.add_(s.param, s.weight_decay);
  double ratio = lr;
  if (s.weight_decay != 0) {
    double p_norm = s.param.norm().item<double>(), u_norm = update.norm().item<double>();
    if (p_norm != 0 && u_norm != 0) ratio = lr * (p_norm / u_norm);
  }
  s.param.add_(update, -ratio);
}

void Optimizer::zero_grad() {
  for (auto& s : slots_) s.param.mutable_grad() = at::Tensor();
}

void Optimizer::save(const std::string& path) const {
  torch::serialize::OutputArchive archive;
  archive.write("format", at::tensor(1, at::kLong));  // layout version of this archive
  archive.write("kind/" + options_.kind, at::tensor(0, at::kLong));
  for (const auto& s : slots_) {
    archive.write(s.name + "/step", at::tensor(s.step, at::kLong));
    if (s.exp_avg.defined()) {
      archive.write(s.name + "/exp_avg", s.exp_avg);
      archive.write(s.name + "/exp_avg_sq", s.exp_avg_sq);
    }
  }
  save_archive(archive, path);
}

void Optimizer::load(const std::string& path) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const c10::Error&) {
    fail_at(path, 0, "cannot read optimizer state");
  }
  // A fresh tensor per read: try_read into a defined tensor would set_ it to the archive's storage.
  auto read = [&](const std::string& key) {
    at::Tensor t;
    return archive.try_read(key, t) ? t : at::Tensor();
  };
  if (!read("kind/" + options_.kind).defined())
    fail_at(path, 0, "optimizer state was not written by optim=" + options_.kind);
  for (auto& s : slots_) {
    at::Tensor step = read(s.name + "/step");
    if (!step.defined()) fail_at(path, 0, "no optimizer state for parameter " + s.name);
    s.step = step.item<std::int64_t>();
    if (!s.exp_avg.defined()) continue;
    for (auto [key, dst] : {std::pair{"/exp_avg", &s.exp_avg}, std::pair{"/exp_avg_sq", &s.exp_avg_sq}}) {
      at::Tensor t = read(s.name + key);
      if (!t.defined() || !t.sizes().equals(dst->sizes()))
        fail_at(path, 0, "optimizer state " + s.name + key + " missing or of another shape");
      dst->copy_(t);
    }
  }
}

}  // namespace bertforge::train

namespace bertforge::train {

std::int64_t Optimizer::load_torch(const std::string& path) {
  if (options_.kind != "adam" && options_.kind != "adamw_torch")
    fail_at(path, 0, "PyTorch optimizer state can only continue optim=adam or adamw_torch");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_at(path, 0, "cannot read");
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
  c10::IValue root;
  try {
    root = torch::pickle_load(bytes);
  } catch (const c10::Error&) {
    fail_at(path, 0, "not a torch.save file");
  }
  if (!root.isGenericDict() || !root.toGenericDict().contains("state") || !root.toGenericDict().contains("param_groups"))
    fail_at(path, 0, "not an optimizer state_dict (no state / param_groups)");
  auto state = root.toGenericDict().at("state").toGenericDict();
  auto groups = root.toGenericDict().at("param_groups").toList();
  std::vector<Slot*> order[2];
  for (auto& s : slots_) order[decays(s.name) ? 0 : 1].push_back(&s);
  if (groups.size() != 2) fail_at(path, 0, "expected HF's 2 parameter groups, found " + std::to_string(groups.size()));
  std::int64_t step = 0;
  for (std::size_t g = 0; g < 2; ++g) {
    auto params = c10::IValue(groups.get(g)).toGenericDict().at("params").toList();
    if (params.size() != order[g].size())
      fail_at(path, 0, "group " + std::to_string(g) + " has " + std::to_string(params.size()) +
                           " parameters, the model " + std::to_string(order[g].size()));
    for (std::size_t i = 0; i < params.size(); ++i) {
      Slot& s = *order[g][i];
      auto found = state.find(c10::IValue(params.get(i)));
      if (found == state.end()) continue;  // never stepped in PyTorch: fresh state here too
      auto entry = found->value().toGenericDict();
      at::Tensor avg = entry.at("exp_avg").toTensor(), avg_sq = entry.at("exp_avg_sq").toTensor();
      if (!avg.sizes().equals(s.param.sizes()) || !avg_sq.sizes().equals(s.param.sizes()))
        fail_at(path, 0, "state of " + s.name + " has another shape: parameter order or model differs");
      s.exp_avg.copy_(avg);
      s.exp_avg_sq.copy_(avg_sq);
      s.step = static_cast<std::int64_t>(entry.at("step").toTensor().item<double>());
      step = std::max(step, s.step);
    }
  }
  return step;
}

}  // namespace bertforge::train
