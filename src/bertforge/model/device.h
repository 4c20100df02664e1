// The --device option of every command: "auto" (the first GPU when one is usable, else the CPU), "cpu",
// "cuda" or "cuda:N". A GPU that is asked for but not usable (no device, no driver, an index past the last
// GPU) is an Error naming the option, before any work starts.
#pragma once
#include <c10/core/Device.h>

#include <string>

namespace bertforge::model {

c10::Device parse_device(const std::string& name);

}  // namespace bertforge::model
