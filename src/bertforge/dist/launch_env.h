// Where this process sits in a distributed run, read from the variables its launcher set.
// - torchrun and `bertforge launch`: RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT;
//   TORCHELASTIC_USE_AGENT_STORE=True means the launcher hosts the TCPStore, so rank 0 connects as a client
//   (torch.distributed's rule, rendezvous.py).
// - SLURM srun (when WORLD_SIZE is unset): SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID; the master is
//   MASTER_ADDR if set, else the first host of SLURM_JOB_NODELIST (or SLURM_NODELIST); the port MASTER_PORT if
//   set, else 20000 + SLURM_JOB_ID % 10000, so every task of a job agrees without talking.
// - Neither: one process.
// BERTFORGE_GRADIENT_ALLREDUCE=gloo keeps CPU ranks of one machine on Gloo for their gradients (shm_reduce.h
// is the default there): to compare the two.
// A malformed or inconsistent value is an Error naming the variable.
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace bertforge::dist {

struct LaunchEnv {
  int rank = 0, world_size = 1;
  int local_rank = 0, local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  bool agent_store = false;  // the launcher hosts the store: no rank starts a server
  std::string source = "none";  // "torchrun", "slurm" or "none", for messages
  bool gloo_gradients = false;  // BERTFORGE_GRADIENT_ALLREDUCE=gloo
};

using Getenv = std::function<const char*(const char*)>;

LaunchEnv launch_env(const Getenv& getenv);
LaunchEnv launch_env();  // from this process's environment

// SLURM's compact host list, expanded in order: "n[01-03,07],gpu" -> n01 n02 n03 n07 gpu. Zero padding of a
// range's first bound is kept; several bracket groups in one name multiply out.
std::vector<std::string> expand_hostlist(const std::string& list);

}  // namespace bertforge::dist
