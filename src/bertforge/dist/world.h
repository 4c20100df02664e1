// The processes a training run spans, as the trainer sees them: rank, size, and the collectives it needs.
// The trainer calls the same methods whether there is one process or many; single_process() is the stand-in
// for one process, where every gradient is already the average and every collective has nothing to do.
//
// from_environment() reads how the run was launched (torchrun's variables, SLURM's, or none: launch_env.h)
// and returns the c10d implementation (Gloo on CPU, NCCL on CUDA) or the stand-in. The c10d one promises:
// - attach_parameters(): rank 0's parameter values are copied to every rank; from then on each ~25 MB bucket
//   of gradients (reverse parameter order, as DDP) starts its all-reduce from an autograd hook while backward
//   still runs, and sync_gradients() waits for the buckets and only then divides by the world size.
//   Without attach_parameters() sync_gradients() still averages, in buckets, after backward. CPU ranks that
//   are all on one machine sum the buckets through shared memory in sync_gradients() instead (shm_reduce.h).
// - A rank that dies, hangs, freezes or loses its network makes every collective on the others fail within the
//   timeout with a bertforge::Error naming that rank (or the rendezvous store, for a rank cut off from it).
//   Nothing blocks forever: a rendezvous or collective still blocked 8 s past the timeout (a c10d call that
//   has no deadline of its own) ends the process with one line on stderr and status 1.
// - A stop signal (WorldOptions::stop_signal) that comes while a collective waits on a rank that stopped
//   responding, or on a store this node cannot reach, ends the process within a few seconds with one line
//   naming the cause and status 128 + the signal; with every rank alive the collective is left to finish.
#pragma once
#include <ATen/Tensor.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace bertforge::dist {

class World {
 public:
  virtual ~World() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // This process's index on its machine (LOCAL_RANK): which GPU it drives.
  virtual int local_rank() const { return 0; }
  bool is_main() const { return rank() == 0; }

  // Once, after the model is built and before training: broadcast rank 0's values into `params` and start
  // overlapping gradient all-reduces with backward (see above).
  virtual void attach_parameters(const std::vector<at::Tensor>& params) = 0;
  // Whether the next backward ends a gradient accumulation (DDP's no_sync for false): only then do the hooks
  // start all-reduces. Default true; with accumulation call it before every micro-batch's backward.
  virtual void sync_next_backward(bool sync) = 0;
  // Averages every gradient of `params` over all processes, in place; returns when done. A gradient that is
  // undefined on this rank counts as zeros (and is defined afterwards) so that every rank joins every bucket.
  virtual void sync_gradients(const std::vector<at::Tensor>& params) = 0;
  // Throws bertforge::Error naming every parameter whose bits differ between ranks.
  virtual void verify_parameters(const std::vector<std::string>& names, const std::vector<at::Tensor>& params) = 0;

  // Element-wise sums over all processes (evaluation counts and loss sums split across ranks).
  virtual std::vector<double> sum(std::vector<double> values) = 0;
  virtual void barrier() = 0;
};

std::unique_ptr<World> single_process();

struct WorldOptions {
  // How long a collective or the rendezvous may wait for another rank before failing (pretrain's --ddp_timeout).
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  // "cpu": Gloo; "cuda": NCCL on GPU LOCAL_RANK (needs a CUDA build).
  std::string device = "cpu";
  // Gradient bucket size; DDP's default.
  std::size_t bucket_bytes = std::size_t{25} << 20;
  // The stop signal (SIGINT, SIGTERM) this process has received so far, 0 if none: the trainer's flag.
  std::function<int()> stop_signal;
};

// The world the launch environment describes: single_process() when no launcher set a world size above 1.
std::unique_ptr<World> from_environment(const WorldOptions& options = {});
// The c10d World of the launch environment even for one process, where from_environment() gives the stand-in
// that skips every collective: to exercise a backend's collectives on a single rank (NCCL on one GPU).
std::unique_ptr<World> c10d_world(const WorldOptions& options = {});

}  // namespace bertforge::dist
