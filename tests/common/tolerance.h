// The tolerance table of every parity test, read from tests/common/tolerance.json (the one place it is kept;
// the Python parity tests read the same file). Its "about" entry defines each column.
#pragma once
#include <ATen/core/Tensor.h>

namespace bertforge::testing {

struct Tolerance {
  double values, loss, grad;
};

// The entry for (device type, dtype); throws for a pair the table lacks.
Tolerance tolerance(c10::DeviceType device, at::ScalarType dtype);

// The table's comparisons, both sides taken in fp64 on the CPU.
bool values_close(const at::Tensor& got, const at::Tensor& want, const Tolerance& t);
bool loss_close(const at::Tensor& got, const at::Tensor& want, const Tolerance& t);
// floor: the least scale (e.g. 1e-3 of a model's largest gradient), for gradients that are analytically zero
// and come out as rounding noise (an attention key bias: softmax ignores a per-row shift).
bool grad_close(const at::Tensor& got, const at::Tensor& want, const Tolerance& t, double floor = 0);

}  // namespace bertforge::testing
