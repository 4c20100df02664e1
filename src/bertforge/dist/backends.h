// The c10d backends behind the distributed World: Gloo for CPU tensors, NCCL for CUDA tensors. NCCL exists
// only in a CUDA build (BERTFORGE_WITH_NCCL); elsewhere asking for it is an Error saying so.
#pragma once
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>
#include <string>

namespace bertforge::dist {

// Gloo over TCP on the interface GLOO_SOCKET_IFNAME names, as in torch.distributed. Without it, on the address
// this host reaches `master_addr` from (the routing table's choice, so the interface that leads to the other
// nodes), unless that is a loopback address in a run of several nodes (node 0 given its own name, which
// /etc/hosts may map to 127.0.1.1): then torch.distributed's rule, the address this host's name resolves to.
c10::intrusive_ptr<c10d::Backend> make_gloo(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                            std::chrono::milliseconds timeout, const std::string& master_addr,
                                            bool one_node);

// NCCL on GPU `local_rank`, which becomes this process's current CUDA device.
c10::intrusive_ptr<c10d::Backend> make_nccl(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                            int local_rank, std::chrono::milliseconds timeout);

}  // namespace bertforge::dist
