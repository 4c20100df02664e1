#include "bertforge/model/device.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <string>

#include "bertforge/util/error.h"

using bertforge::model::parse_device;

namespace {

std::string error_of(const std::string& name) {
  try {
    parse_device(name);
  } catch (const bertforge::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Device, RefusesUnknownNames) {
  EXPECT_NE(error_of("tpu").find("--device: 'tpu'"), std::string::npos);
  EXPECT_EQ(parse_device("cpu"), c10::Device(c10::kCPU));
}

// Without a usable GPU: auto is the CPU and cuda is a one-line error; with GPUs: an index past the last one.
TEST(Device, CudaOnlyWhenUsable) {
  if (!torch::cuda::is_available()) {
    EXPECT_EQ(parse_device("auto"), c10::Device(c10::kCPU));
    std::string e = error_of("cuda:0");
    EXPECT_NE(e.find("--device cuda:0: CUDA is not available"), std::string::npos) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  } else {
    EXPECT_EQ(parse_device("auto"), c10::Device(c10::kCUDA, 0));
    std::string past = "cuda:" + std::to_string(torch::cuda::device_count());
    EXPECT_NE(error_of(past).find("GPU(s)"), std::string::npos);
  }
}
