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

// The layout version of the archive save() writes; load() reads this one only.
constexpr std::int64_t kArchiveFormat = 1;

Optimizer::Optimizer(const std::vector<NamedTensor>& params, OptimizerOptions options)
    : options_(std::move(options)) {
  struct Kind {
    const char* name;
    Rule rule;
    bool fused;
  };
  static const Kind kinds[] = {{"adamw_torch_fused", Rule::adamw, true}, {"adam_torch_fused", Rule::adam, true},
                               {"adamw_torch", Rule::adamw, false},      {"adam", Rule::adam, false},
                               {"lamb", Rule::lamb, false},              {"sgd", Rule::sgd, false}};
  auto kind = std::find_if(std::begin(kinds), std::end(kinds), [&](const Kind& k) { return k.name == options_.kind; });
  if (kind == std::end(kinds)) throw Error("optim: unknown optimizer '" + options_.kind + "'");
  rule_ = kind->rule;
  fused_ = kind->fused;
  for (const auto& p : params) {
    Slot s{p.name, p.tensor, decays(p.name) ? options_.weight_decay : 0.0, 0, {}, {}, {}};
    if (rule_ != Rule::sgd) {
      s.exp_avg = at::zeros_like(p.tensor, at::MemoryFormat::Preserve);
      s.exp_avg_sq = at::zeros_like(p.tensor, at::MemoryFormat::Preserve);
    }
    if (fused_) s.fused_step = at::zeros({}, p.tensor.options().dtype(at::kFloat));
    slots_.push_back(std::move(s));
  }
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    auto same = [&](const std::vector<std::size_t>& g) {
      const Slot &a = slots_[g[0]], &b = slots_[i];
      return a.weight_decay == b.weight_decay && a.param.dtype() == b.param.dtype() && a.param.device() == b.param.device();
    };
    auto g = std::find_if(groups_.begin(), groups_.end(), same);
    if (g == groups_.end()) groups_.push_back({i});
    else g->push_back(i);
  }
}

// The archive's names of the rules, as torch.optim and HF name them.
const char* Optimizer::rule_name() const {
  switch (rule_) {
    case Rule::adam: return "adam";
    case Rule::adamw: return "adamw_torch";
    case Rule::lamb: return "lamb";
    case Rule::sgd: return "sgd";
  }
  return "";
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
  if (fused_) return fused_update(lr);
  if (rule_ == Rule::lamb) return lamb_update(lr);
  for (auto& s : slots_) {
    at::Tensor grad = s.param.grad();
    if (!grad.defined()) continue;
    ++s.step;
    if (rule_ == Rule::sgd) {
      if (s.weight_decay != 0) grad = grad.add(s.param, s.weight_decay);
      s.param.add_(grad, -lr);
    } else {
      adam_update(s, grad, lr);
    }
  }
}

Optimizer::GroupTensors Optimizer::advance(const std::vector<std::size_t>& group) {
  GroupTensors l;
  l.weight_decay = slots_[group[0]].weight_decay;
  for (std::size_t i : group) {
    Slot& s = slots_[i];
    if (!s.param.grad().defined()) continue;
    ++s.step;
    l.params.push_back(s.param);
    l.grads.push_back(s.param.grad());
    l.exp_avgs.push_back(s.exp_avg);
    l.exp_avg_sqs.push_back(s.exp_avg_sq);
    if (s.fused_step.defined()) l.steps.push_back(s.fused_step);
    l.counts.push_back(static_cast<double>(s.step));
  }
  return l;
}

// torch/optim/adam.py _fused_adam: count the steps on the tensor side, then one kernel per group.
void Optimizer::fused_update(double lr) {
  const auto& o = options_;
  for (const auto& group : groups_) {
    GroupTensors l = advance(group);
    if (l.params.empty()) continue;
    at::_foreach_add_(l.steps, 1);
    if (rule_ == Rule::adamw)
      at::_fused_adamw_(l.params, l.grads, l.exp_avgs, l.exp_avg_sqs, {}, l.steps, lr, o.beta1, o.beta2,
                        l.weight_decay, o.eps, /*amsgrad=*/false, /*maximize=*/false);
    else
      at::_fused_adam_(l.params, l.grads, l.exp_avgs, l.exp_avg_sqs, {}, l.steps, lr, o.beta1, o.beta2,
                       l.weight_decay, o.eps, /*amsgrad=*/false, /*maximize=*/false);
  }
}

// torch/optim/adam.py _single_tensor_adam (decoupled decay = AdamW), in its order of operations.
void Optimizer::adam_update(Slot& s, const at::Tensor& g, double lr) const {
  at::Tensor grad = g;
  if (s.weight_decay != 0) {
    if (rule_ == Rule::adamw) s.param.mul_(1 - lr * s.weight_decay);
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
// decoupled decay, trust ratio only where the tensor decays), one foreach op per stage over each group. Its
// internal clip by the global norm is the trainer's max_grad_norm clip, done before step().
void Optimizer::lamb_update(double lr) {
  const auto& o = options_;
  for (const auto& group : groups_) {
    GroupTensors l = advance(group);
    if (l.params.empty()) continue;
    at::_foreach_mul_(l.exp_avgs, o.beta1);
    at::_foreach_add_(l.exp_avgs, l.grads, 1 - o.beta1);
    at::_foreach_mul_(l.exp_avg_sqs, o.beta2);
    at::_foreach_addcmul_(l.exp_avg_sqs, l.grads, l.grads, 1 - o.beta2);
    std::vector<at::Scalar> correction1, correction2;
    for (double step : l.counts)
      correction1.emplace_back(1 - std::pow(o.beta1, step)), correction2.emplace_back(1 - std::pow(o.beta2, step));
    std::vector<at::Tensor> v_hat = at::_foreach_div(l.exp_avg_sqs, correction2);
    at::_foreach_sqrt_(v_hat);
    at::_foreach_add_(v_hat, o.eps);
    std::vector<at::Tensor> update = at::_foreach_div(at::_foreach_div(l.exp_avgs, correction1), v_hat);
    if (l.weight_decay == 0) {
      at::_foreach_add_(l.params, update, -lr);
      continue;
    }
    at::_foreach_add_(update, l.params, l.weight_decay);
    // Trust ratio lr * |p| / |update| (lr where either norm is 0), in float64 as the host-side version was.
    at::Tensor p_norm = at::stack(at::_foreach_norm(l.params)).to(at::kDouble);
    at::Tensor u_norm = at::stack(at::_foreach_norm(update)).to(at::kDouble);
    at::Tensor ratio = at::where(p_norm.ne(0).logical_and(u_norm.ne(0)), lr * (p_norm / u_norm), lr);
    at::_foreach_mul_(update, ratio.neg().unbind());
    at::_foreach_add_(l.params, update);
  }
}

at::Tensor grad_norm(const std::vector<at::Tensor>& params) {
  std::vector<at::Tensor> norms;
  for (const auto& p : params)
    if (p.grad().defined()) norms.push_back(p.grad().norm(2));
  if (norms.empty()) return at::zeros({}, at::kDouble);  // as LibTorch returns 0.0
  return norms.size() == 1 ? norms[0] : at::stack(norms).norm(2);
}

at::Tensor clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm) {
  at::Tensor total = grad_norm(params);
  at::Tensor coef = at::clamp(max_norm / (total + 1e-6), std::nullopt, 1.0);
  for (const auto& p : params)
    if (p.grad().defined()) p.grad().mul_(coef);
  return total;
}

void Optimizer::zero_grad(bool set_to_none) {
  for (auto& s : slots_) {
    at::Tensor& g = s.param.mutable_grad();
    if (set_to_none) g = at::Tensor();
    else if (g.defined()) g.zero_();
  }
}

void Optimizer::save(const std::string& path) const {
  torch::serialize::OutputArchive archive;
  archive.write("format", at::tensor(kArchiveFormat, at::kLong));
  archive.write(std::string("kind/") + rule_name(), at::tensor(0, at::kLong));  // the rule, not the kernel
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
  at::Tensor format = read("format");
  if (!format.defined() || format.item<std::int64_t>() != kArchiveFormat)
    fail_at(path, 0, "optimizer state of format " +
                         (format.defined() ? std::to_string(format.item<std::int64_t>()) : std::string("unknown")) +
                         ", this bertforge reads format " + std::to_string(kArchiveFormat) +
                         " (written by another bertforge version?)");
  if (!read(std::string("kind/") + rule_name()).defined())
    fail_at(path, 0, "optimizer state was not written by optim=" + options_.kind +
                         (rule_ == Rule::adam || rule_ == Rule::adamw ? " or its fused/single-tensor twin" : ""));
  for (auto& s : slots_) {
    at::Tensor step = read(s.name + "/step");
    if (!step.defined()) fail_at(path, 0, "no optimizer state for parameter " + s.name);
    s.step = step.item<std::int64_t>();
    if (s.fused_step.defined()) s.fused_step.fill_(static_cast<double>(s.step));
    if (!s.exp_avg.defined()) continue;
    for (auto [key, dst] : {std::pair{"/exp_avg", &s.exp_avg}, std::pair{"/exp_avg_sq", &s.exp_avg_sq}}) {
      at::Tensor t = read(s.name + key);
      if (!t.defined() || !t.sizes().equals(dst->sizes()))
        fail_at(path, 0, "optimizer state " + s.name + key + " missing or of another shape");
      dst->copy_(t);
    }
  }
}

std::int64_t Optimizer::load_torch(const std::string& path) {
  if (rule_ != Rule::adam && rule_ != Rule::adamw)
    fail_at(path, 0, "PyTorch optimizer state can only continue optim=adamw_torch_fused, adamw_torch, adam_torch_fused or adam");
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
      if (s.fused_step.defined()) s.fused_step.fill_(static_cast<double>(s.step));
      step = std::max(step, s.step);
    }
  }
  return step;
}

}  // namespace bertforge::train
