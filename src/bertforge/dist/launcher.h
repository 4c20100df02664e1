// `bertforge launch`: torchrun's job for machines without Python. Starts nproc_per_node copies of a command
// with the variables torchrun gives its workers (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK,
// MASTER_ADDR, MASTER_PORT, TORCHELASTIC_USE_AGENT_STORE=True), and watches them:
// - The launcher of node 0 hosts the rendezvous TCPStore, as torchrun's agent does, so the store outlives any
//   one rank and the survivors of a dead rank 0 can still be told what happened.
// - SIGINT/SIGTERM/SIGHUP to the launcher are forwarded to every child (children run in their own process
//   group, so Ctrl-C reaches them once, through the launcher); a child left `grace` after that is killed.
//   Every signal but SIGKILL goes with a SIGCONT, so that a frozen (stopped) child acts on it.
// - The first child that fails (non-zero exit or a signal) is reported by rank; the others get SIGTERM, and
//   SIGKILL after `grace`. The launcher's status is that child's (128 + signal for a signal), else 0. A child
//   that ends with 128 + N after the launcher passed signal N on (pretrain stops so after saving) is the
//   expected end, not a failure: the launcher exits 128 + N without stopping the others.
// - Children die with the launcher (PR_SET_PDEATHSIG), so a killed launcher leaves no orphan ranks.
// - With several nodes, a node whose ranks still run when node 0's launcher (and the store) ended stops them
//   as after a failure, and node 0's launcher keeps the store up a while after its ranks end (node_watch.h).
#pragma once
#include <chrono>
#include <string>
#include <vector>

namespace bertforge::dist {

struct LaunchOptions {
  int nproc_per_node = 1;
  int nnodes = 1;
  int node_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::chrono::milliseconds grace{std::chrono::seconds(30)};
};

// Runs `command` (argv[0] searched in PATH) once per local rank; returns the exit status described above.
int launch(const LaunchOptions& options, const std::vector<std::string>& command);

}  // namespace bertforge::dist
