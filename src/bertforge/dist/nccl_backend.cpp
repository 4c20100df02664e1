// NCCL's backend, compiled only in a CUDA build (the CUDA toolkit and the wheel's nccl.h are present).
#include "bertforge/dist/backends.h"
#include "bertforge/util/error.h"

#ifdef BERTFORGE_WITH_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace bertforge::dist {

#ifdef BERTFORGE_WITH_NCCL
c10::intrusive_ptr<c10d::Backend> make_nccl(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                            int local_rank, std::chrono::milliseconds timeout) {
  int gpus = static_cast<int>(c10::cuda::device_count());
  if (local_rank >= gpus)
    throw Error("--device cuda: LOCAL_RANK " + std::to_string(local_rank) + " but this machine has " +
                std::to_string(gpus) + " GPU(s)");
  c10::cuda::set_device(static_cast<c10::DeviceIndex>(local_rank));
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, options);
}
#else
c10::intrusive_ptr<c10d::Backend> make_nccl(const c10::intrusive_ptr<c10d::Store>&, int, int, int,
                                            std::chrono::milliseconds) {
  throw Error("--device cuda: this bertforge was built without CUDA, so NCCL is unavailable");
}
#endif

}  // namespace bertforge::dist
