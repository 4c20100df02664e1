// Optimizers that reproduce PyTorch's torch.optim single-tensor updates op for op (the path torch takes for
// CPU tensors), so a bertforge step and a PyTorch step from the same state give the same bits on CPU:
//   adam         torch.optim.Adam  (L2 weight decay added to the gradient; the reference's optimizer)
//   adamw_torch  torch.optim.AdamW (decoupled decay; HF's default; adamw_torch_fused is taken as this)
//   sgd          torch.optim.SGD without momentum (as HF's optim=sgd builds it)
//   lamb         NVIDIA's BERT recipe (apex FusedLAMB): Adam moments with bias correction, decoupled decay
//                inside the update, per-tensor trust ratio |p|/|update| where the tensor decays.
// LibTorch's own torch::optim::Adam updates the first moment with mul_+add_ instead of lerp_, which rounds
// differently, hence this file.
//
// Parameters are grouped as HF Trainer groups them: no weight decay for biases and normalisation weights
// (get_decay_parameter_names). State is keyed by parameter name; save()/load() write a LibTorch archive
// holding the step and every moment tensor, so a resumed run continues bit for bit.
#pragma once
#include <ATen/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace bertforge::train {

struct OptimizerOptions {
  std::string kind = "adamw_torch";
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
  void zero_grad();  // sets gradients to None, as torch's zero_grad(set_to_none=True)

  void save(const std::string& path) const;
  // Throws Error naming the file if it was written for other parameters or another optimizer.
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
  };
  void adam_update(Slot& s, const at::Tensor& grad, double lr) const;
  void lamb_update(Slot& s, const at::Tensor& grad, double lr) const;

  OptimizerOptions options_;
  std::vector<Slot> slots_;
};

}  // namespace bertforge::train
