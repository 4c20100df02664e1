#include "bertforge/dist/launcher.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <map>
#include <thread>

#include "bertforge/dist/c10d_log.h"
#include "bertforge/dist/node_watch.h"
#include "bertforge/util/error.h"
#include "bertforge/util/messages.h"

extern char** environ;

namespace bertforge::dist {

namespace {

std::atomic<int> g_signal{0};
extern "C" void on_signal(int sig) { g_signal = sig; }

struct Child {
  int rank = 0;
  pid_t pid = -1;
  bool running = false;
};

// The environment of local rank `local`: ours, with torchrun's variables set.
std::vector<std::string> child_env(const LaunchOptions& o, int local) {
  int world = o.nnodes * o.nproc_per_node;
  std::map<std::string, std::string> set{
      {"RANK", std::to_string(o.node_rank * o.nproc_per_node + local)},
      {"LOCAL_RANK", std::to_string(local)},
      {"WORLD_SIZE", std::to_string(world)},
      {"LOCAL_WORLD_SIZE", std::to_string(o.nproc_per_node)},
      {"GROUP_RANK", std::to_string(o.node_rank)},
      {"MASTER_ADDR", o.master_addr},
      {"MASTER_PORT", std::to_string(o.master_port)},
      {"TORCHELASTIC_USE_AGENT_STORE", "True"}};
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    if (!set.count(kv.substr(0, kv.find('=')))) env.push_back(kv);
  }
  for (const auto& [k, v] : set) env.push_back(k + "=" + v);
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> p;
  for (auto& s : strings) p.push_back(s.data());
  p.push_back(nullptr);
  return p;
}

// Everything the child needs is prepared before fork: the launcher has threads (the store's), so the child
// may only make system calls until exec.
pid_t spawn(std::vector<std::string> command, std::vector<std::string> env) {
  auto argv = pointers(command);
  auto envp = pointers(env);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) throw Error(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the launcher died before prctl took effect
    execvpe(argv[0], argv.data(), envp.data());
    const char msg[] = "bertforge launch: cannot execute the command\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
  }
  return pid;
}

std::string describe(int status) {
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
                                  strsignal(WTERMSIG(status)) + ")";
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

int exit_code(int status) { return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status); }

// A stopped (frozen) child would hold any signal but SIGKILL until continued: SIGCONT lets it act on it now.
void signal_all(std::vector<Child>& children, int sig) {
  for (auto& c : children)
    if (c.running) kill(c.pid, sig), kill(c.pid, SIGCONT);
}

// Node 0's launcher hosts the rendezvous store the ranks of every node meet at.
c10::intrusive_ptr<c10d::TCPStore> host_store(const LaunchOptions& o) {
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(o.master_port);
  so.isServer = true;
  so.waitWorkers = false;
  so.multiTenant = true;
  try {
    return c10::make_intrusive<c10d::TCPStore>(o.master_addr, so);
  } catch (const std::exception& e) {
    throw Error("--master-port: cannot host the rendezvous store on port " + std::to_string(o.master_port) + ": " +
                std::string(e.what()).substr(0, std::string(e.what()).find('\n')));
  }
}

std::vector<Child> spawn_ranks(const LaunchOptions& o, const std::vector<std::string>& command) {
  std::vector<Child> children(static_cast<std::size_t>(o.nproc_per_node));
  for (int local = 0; local < o.nproc_per_node; ++local) {
    children[local].rank = o.node_rank * o.nproc_per_node + local;
    children[local].pid = spawn(command, child_env(o, local));
    children[local].running = true;
  }
  return children;
}

}  // namespace

int launch(const LaunchOptions& o, const std::vector<std::string>& command) {
  if (command.empty()) throw UsageError("command: none after -- (give the command each rank runs)");
  if (o.nproc_per_node < 1 || o.nnodes < 1 || o.node_rank < 0 || o.node_rank >= o.nnodes)
    throw UsageError("--node-rank: must be below --nnodes (and --nproc-per-node, --nnodes >= 1)");
  quiet_c10d_warnings();
  c10::intrusive_ptr<c10d::TCPStore> store = o.node_rank == 0 ? host_store(o) : nullptr;
  struct sigaction sa {}, old_int {}, old_term {}, old_hup {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  sigaction(SIGHUP, &sa, &old_hup);

  NodeWatch watch(o, store);
  std::vector<Child> children = spawn_ranks(o, command);
  int result = 0, running = o.nproc_per_node, forwarded = 0;
  bool store_lost = false;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  while (running > 0) {
    if (int sig = g_signal.exchange(0)) {
      std::fprintf(stderr, "bertforge launch: %s, passed on to every rank\n", strsignal(sig));
      signal_all(children, sig);
      forwarded = sig;
      if (deadline == std::chrono::steady_clock::time_point::max()) deadline = std::chrono::steady_clock::now() + o.grace;
    }
    if (!store_lost && watch.store_closed()) {
      store_lost = true;
      std::fprintf(stderr, "bertforge launch: the rendezvous store at %s:%d closed (node 0's launcher ended); "
                   "stopping the ranks of this node\n", o.master_addr.c_str(), o.master_port);
      signal_all(children, SIGTERM);
      deadline = std::min(deadline, std::chrono::steady_clock::now() + o.grace);
    }
    if (std::chrono::steady_clock::now() > deadline) signal_all(children, SIGKILL);
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    for (auto& c : children) {
      if (c.pid != pid) continue;
      c.running = false;
      --running;
      if (status == 0 || result != 0) break;
      result = exit_code(status);
      if (forwarded && result == 128 + forwarded) break;  // stopped by the signal passed on, as the others are
      std::fprintf(stderr, "bertforge launch: rank %d (pid %d) %s; stopping the other ranks\n", c.rank, pid,
                   describe(status).c_str());
      signal_all(children, SIGTERM);
      deadline = std::min(deadline, std::chrono::steady_clock::now() + o.grace);
    }
  }
  watch.finished(result == 0);
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  sigaction(SIGHUP, &old_hup, nullptr);
  return result;
}

}  // namespace bertforge::dist
