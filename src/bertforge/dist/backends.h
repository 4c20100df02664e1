// The c10d backends behind the distributed World: Gloo for CPU tensors, NCCL for CUDA tensors. NCCL exists
// only in a CUDA build (BERTFORGE_WITH_NCCL); elsewhere asking for it is an Error saying so.
#pragma once
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>

namespace bertforge::dist {

// Gloo over TCP on the interface this host's name resolves to (loopback if it does not resolve);
// GLOO_SOCKET_IFNAME picks an interface instead, as in torch.distributed.
c10::intrusive_ptr<c10d::Backend> make_gloo(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                            std::chrono::milliseconds timeout);

// NCCL on GPU `local_rank`, which becomes this process's current CUDA device.
c10::intrusive_ptr<c10d::Backend> make_nccl(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                            int local_rank, std::chrono::milliseconds timeout);

}  // namespace bertforge::dist
