// Optimizers as PyTorch's torch.optim runs them on CPU, so a bertforge step and a PyTorch step from the same
// state give the same bits:
//   adamw_torch_fused  torch.optim.AdamW(fused=True): at::_fused_adamw_, one kernel over each group's tensors
//                      (HF 5's default and ours)
//   adam_torch_fused   torch.optim.Adam(fused=True): at::_fused_adam_ (L2 weight decay added to the gradient)
//   adamw_torch        torch.optim.AdamW's single-tensor update, op for op (decoupled decay)
//   adam               torch.optim.Adam's single-tensor update (L2 decay; the reference's optimizer)
//   sgd                torch.optim.SGD without momentum (as HF's optim=sgd builds it)
//   lamb               NVIDIA's BERT recipe (apex FusedLAMB) over foreach ops: Adam moments with bias
//                      correction, decoupled decay inside the update, per-tensor trust ratio |p|/|update|
//                      where the tensor decays, computed on the tensor side (no host read per tensor).
// LibTorch's own torch::optim::Adam updates the first moment with mul_+add_ instead of lerp_, which rounds
// differently, hence this file. The fused kernels round differently from the single-tensor ops (a few ulp per
// step); each equals its PyTorch counterpart.
//
// Parameters are grouped as HF Trainer groups them: no weight decay for biases and normalisation weights
// (get_decay_parameter_names); the fused and foreach kinds further split the groups by dtype and device, once,
// as torch's _group_tensors_by_device_and_dtype does. State is keyed by parameter name; save()/load() write a
// LibTorch archive holding its format version, the step and every moment tensor, so a resumed run continues
// bit for bit. The archive names the update rule (adam, adamw_torch, lamb, sgd), not the kernel: a fused run's
// state resumes with the single-tensor kernel of the same rule and the other way round. torch's fused step
// counter (a float32 tensor per parameter, state_steps) is kept beside the integer step, which is what the
// archive holds.
#pragma once
#include <ATen/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace bertforge::train {

struct OptimizerOptions {
  std::string kind = "adamw_torch_fused";
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
};

struct NamedTensor {
  std::string name;
  at::Tensor tensor;
};

class Optimizer {
 public:
  Optimizer(const std::vector<NamedTensor>& params, OptimizerOptions options);

  // One update of every parameter that has a gradient, at learning rate `lr`.
  void step(double lr);
  // torch's zero_grad: gradients set to None, or (set_to_none false) the defined ones zeroed in place.
  void zero_grad(bool set_to_none = true);

  void save(const std::string& path) const;
  // Throws Error naming the file if it was written for other parameters, another optimizer or in another
  // format version.
  void load(const std::string& path);
  // Imports PyTorch's Adam/AdamW state as HF Trainer saves it (optimizer.pt = torch.save(state_dict())):
  // state indices run over param_groups in order, and HF's groups are [decaying, non-decaying] parameters,
  // each in named_parameters() order, which is ours (HF names and registration order). Every shape is
  // checked, so another order or model is an Error naming the file and the parameter. Returns the step.
  std::int64_t load_torch(const std::string& path);

  // HF's rule: does weight decay apply to this parameter?
  static bool decays(const std::string& name);

 private:
  struct Slot {
    std::string name;
    at::Tensor param;
    double weight_decay;
    std::int64_t step = 0;           // per parameter, as torch counts it
    at::Tensor exp_avg, exp_avg_sq;  // empty for sgd
    at::Tensor fused_step;           // fused kinds: torch's state_steps entry (float32 scalar beside the param)
  };
  // The tensors of one fused or foreach call: the group's slots with a gradient this step.
  struct GroupTensors {
    double weight_decay = 0;
    std::vector<at::Tensor> params, grads, exp_avgs, exp_avg_sqs, steps;
    std::vector<double> counts;  // the step of each, for LAMB's bias corrections
  };
  // Counts this step for each slot of the group that has a gradient, and gathers those slots' tensors.
  GroupTensors advance(const std::vector<std::size_t>& group);
  void fused_update(double lr);
  void lamb_update(double lr);
  void adam_update(Slot& s, const at::Tensor& grad, double lr) const;

  OptimizerOptions options_;
  enum class Rule { adam, adamw, lamb, sgd };  // the update rule (adam: L2 decay, adamw: decoupled)
  const char* rule_name() const;              // as the archive names it: adam, adamw_torch, lamb, sgd
  Rule rule_ = Rule::adamw;
  bool fused_ = false;
  std::vector<Slot> slots_;
  std::vector<std::vector<std::size_t>> groups_;  // slot indices of equal dtype, device and weight decay
};

// torch::nn::utils::clip_grad_norm_ (2-norm) op for op, so the clipped gradients are the same bits, but the
// total norm before clipping comes back as a tensor on the gradients' device instead of a double: no host
// synchronisation until someone reads it. Parameters without a gradient are skipped; with none, the norm is 0.
at::Tensor clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm);
// That total norm alone, nothing clipped (the Trainer's non-finite test when max_grad_norm is 0).
at::Tensor grad_norm(const std::vector<at::Tensor>& params);

}  // namespace bertforge::train
