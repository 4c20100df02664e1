// The processes a training run spans, as the trainer sees them: rank, size, and the collective it needs
// after backward (average the gradients over processes). The trainer calls sync_gradients() whether there is
// one process or many; single_process() is the stand-in for one process, where every gradient is already the
// average. The distributed issue adds the c10d implementation (Gloo/NCCL) behind the same interface.
#pragma once
#include <ATen/Tensor.h>

#include <memory>
#include <vector>

namespace bertforge::dist {

class World {
 public:
  virtual ~World() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Averages every defined gradient of `params` over all processes, in place; returns when done.
  virtual void sync_gradients(const std::vector<at::Tensor>& params) = 0;
  // The mean of a scalar over all processes (losses and metrics for logging).
  virtual double mean(double value) = 0;
  bool is_main() const { return rank() == 0; }
};

std::unique_ptr<World> single_process();

}  // namespace bertforge::dist
