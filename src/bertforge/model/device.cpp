#include "bertforge/model/device.h"

#include <torch/cuda.h>

#include "bertforge/util/error.h"

namespace bertforge::model {

c10::Device parse_device(const std::string& name) {
  if (name == "auto") return torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  if (name != "cpu" && name.rfind("cuda", 0) != 0)
    throw Error("--device: '" + name + "' is not auto, cpu, cuda or cuda:N");
  c10::Device device(name);
  if (!device.is_cuda()) return device;
  // is_available() is false without a driver too; asking for the count then would throw LibTorch's long error.
  if (!torch::cuda::is_available()) throw Error("--device " + name + ": CUDA is not available on this machine");
  auto count = static_cast<int>(torch::cuda::device_count());
  if (device.has_index() && device.index() >= count)
    throw Error("--device " + name + ": this machine has " + std::to_string(count) + " GPU(s)");
  return device;
}

}  // namespace bertforge::model
