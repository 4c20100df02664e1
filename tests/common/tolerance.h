// The tolerance table of every parity test, read from tests/common/tolerance.json (the one place it is kept;
// the Python parity tests read the same file). Its "about" entry defines each column.
#pragma once
#include <ATen/core/Tensor.h>

#include <vector>

namespace bertforge::testing {

struct Tolerance {
  double values, loss, grad;
};

// The entry for (device type, dtype); throws for a pair the table lacks.
Tolerance tolerance(c10::DeviceType device, at::ScalarType dtype);
// fp32 on the CPU, the same computation with its sums in another order (ranks, micro-batches, a sparse head).
Tolerance reordered();
// The table's grad_floor times the largest entry of `grads`: the floor argument of grad_close.
double grad_floor(const std::vector<at::Tensor>& grads);

// The table's comparisons, both sides taken in fp64 on the CPU.
bool values_close(const at::Tensor& got, const at::Tensor& want, const Tolerance& t);
bool loss_close(const at::Tensor& got, const at::Tensor& want, const Tolerance& t);
// floor: the least scale (e.g. 1e-3 of a model's largest gradient), for gradients that are analytically zero
// and come out as rounding noise (an attention key bias: softmax ignores a per-row shift).
bool grad_close(const at::Tensor& got, const at::Tensor& want, const Tolerance& t, double floor = 0);

}  // namespace bertforge::testing
