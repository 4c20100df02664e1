// Gloo's backend header needs gloo's own headers, which the LibTorch wheel does not ship: Debian's
// libgloo-dev provides them (headers only; the Gloo code that runs is the copy inside libtorch_cpu).
// Only std::shared_ptr handles to gloo objects cross this boundary, so the headers' version does not change
// any layout we depend on.
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include <cstdlib>

#include "bertforge/dist/backends.h"

namespace bertforge::dist {

c10::intrusive_ptr<c10d::Backend> make_gloo(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                            std::chrono::milliseconds timeout) {
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
  options->devices.push_back(ifname && *ifname ? c10d::ProcessGroupGloo::createDeviceForInterface(ifname)
                                               : c10d::ProcessGroupGloo::createDefaultDevice());
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, options);
}

}  // namespace bertforge::dist
