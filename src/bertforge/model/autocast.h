// Mixed precision for a scope: while an Autocast lives, LibTorch runs matmuls (linear, attention) on
// `device_type` in `dtype` (bf16) and keeps precision-sensitive ops (softmax, layer norm, losses) in fp32,
// as torch.autocast does in Python. Parameters stay fp32. Thread-local, like torch.autocast. dtype kFloat
// means "off", so callers can pass a configured precision through unconditionally.
//
//   { Autocast mixed(c10::kCPU, at::kBFloat16); auto out = model(ids, ...); }  out.loss.backward();
#pragma once
#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>

namespace bertforge::model {

class Autocast {
 public:
  Autocast(c10::DeviceType device_type, c10::ScalarType dtype);
  ~Autocast();
  Autocast(const Autocast&) = delete;
  Autocast& operator=(const Autocast&) = delete;

 private:
  c10::DeviceType device_;
  bool was_enabled_;
  c10::ScalarType was_dtype_;
};

}  // namespace bertforge::model
