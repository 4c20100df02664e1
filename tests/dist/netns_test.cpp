// Two machines made of network namespaces: each its own network stack, joined by a veth pair, host 0 at
// 10.250.0.1 and host 1 at 10.250.0.2 (a /24 that exists only inside the two namespaces, so no packet leaves
// them), and `bertforge launch` on each as on two nodes. The tests create and delete the namespaces
// themselves (root and iproute2 needed; elsewhere they are skipped, saying why).
//
// - Results: 2 nodes x 1 rank and 2 nodes x 2 ranks train as one process with the same global batch (the
//   tolerance table's row for reordered fp32 sums), over GLOO_SOCKET_IFNAME and over the interface bertforge
//   picks; a checkpoint of 2 nodes resumes on one process, and the other way round.
// - Faults, none of which may hang a rank: a link cut on either side (`ip link set ... down`), a node's
//   launcher killed with SIGKILL, the master's store gone with node 0's launcher, a rank frozen with SIGSTOP,
//   a link down for less than --ddp_timeout (training goes on). Every launcher must stop within
//   --ddp_timeout + 10 s of the fault with a non-zero status and a line naming the peer at fault; each prints
//   its time to stop ("time to stop: ...", quoted in docs/reliability.md). After a cut the checkpoints are
//   whole and --resume_from_checkpoint latest continues as an uninterrupted run would.
#include <gtest/gtest.h>
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "bertforge/model/safetensors.h"
#include "common/paths.h"
#include "common/process.h"
#include "common/tolerance.h"
#include "train/tiny_data.h"

namespace fs = std::filesystem;
using namespace bertforge::testing;
using namespace std::chrono_literals;
using Env = std::map<std::string, std::string>;
using Args = std::vector<std::string>;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kBin = ::bertforge::testing::bertforge_bin();
constexpr int kTimeout = 10;  // --ddp_timeout of the fault runs, seconds
constexpr auto kStopWithin = std::chrono::seconds(kTimeout + 10);
const char* const kAddress[] = {"10.250.0.1", "10.250.0.2"};
constexpr int kPort = 29500;  // each host is a fresh network stack: nothing else listens there

// iproute2's `ip`, found as a shell would (start() takes a path).
std::string ip_tool() {
  for (const char* dir : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"})
    if (fs::exists(std::string(dir) + "/ip")) return std::string(dir) + "/ip";
  return "ip";
}

// Runs a shell command to its end (10 s at most); its status and output.
std::pair<int, std::string> sh(const std::string& command, const fs::path& log) {
  auto status = wait_for(start({"/bin/sh", "-c", command}, {}, log.string()), 10s);
  return {status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1, read_file(log.string())};
}

std::vector<nlohmann::json> metrics(const fs::path& out) {
  std::ifstream in((out / "metrics.jsonl").string());
  std::vector<nlohmann::json> v;
  for (std::string line; std::getline(in, line);) v.push_back(nlohmann::json::parse(line));
  return v;
}

std::vector<double> losses(const fs::path& out) {
  std::vector<double> v;
  for (const auto& m : metrics(out))
    if (m.contains("loss")) v.push_back(m["loss"].get<double>());
  return v;
}

int latest_checkpoint(const fs::path& out) {
  int latest = 0;
  for (const auto& e : fs::directory_iterator(out)) {
    std::string name = e.path().filename().string();
    if (name.rfind("checkpoint-", 0) == 0) latest = std::max(latest, std::stoi(name.substr(11)));
  }
  return latest;
}

void expect_same_weights(const fs::path& a, const fs::path& b) {
  const Tolerance t = reordered();
  bertforge::model::SafetensorsFile wa((a / "model.safetensors").string()), wb((b / "model.safetensors").string());
  ASSERT_EQ(wa.entries().size(), wb.entries().size());
  for (const auto& e : wa.entries())
    EXPECT_TRUE(values_close(wb.tensor(e.name), wa.tensor(e.name), t))
        << e.name << ": max difference " << (wa.tensor(e.name) - wb.tensor(e.name)).abs().max().item<double>();
}

// The ranks a launcher started: the processes whose parent it is.
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> kids;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = read_file((e.path() / "stat").string());
    auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    int ppid = 0;
    char state = 0;
    if (std::sscanf(stat.c_str() + close + 1, " %c %d", &state, &ppid) == 2 && ppid == parent)
      kids.push_back(std::stoi(name));
  }
  std::sort(kids.begin(), kids.end());
  return kids;
}

}  // namespace

class TwoHosts : public ::testing::Test {
 protected:
  void SetUp() override {
    auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("bertforge_netns_" + std::to_string(getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    remove_stale_namespaces();
    const std::string id = std::to_string(getpid());
    ns_ = {"bfn" + id + "a", "bfn" + id + "b"};
    veth_ = {"bfv" + id + "a", "bfv" + id + "b"};
    auto [status, out] = sh("ip netns add " + ns_[0] + " && ip netns add " + ns_[1] + " && ip link add " + veth_[0] +
                                " netns " + ns_[0] + " type veth peer name " + veth_[1] + " netns " + ns_[1],
                            dir_ / "setup.log");
    made_ = true;
    if (status != 0) GTEST_SKIP() << "cannot create network namespaces and a veth pair (root and iproute2 needed): " << out;
    for (int h : {0, 1}) {
      auto [s, o] = sh(ip(h) + "addr add " + kAddress[h] + "/24 dev " + veth_[h] + " && " + ip(h) + "link set " +
                           veth_[h] + " up && " + ip(h) + "link set lo up",
                       dir_ / "setup.log");
      ASSERT_EQ(s, 0) << o;
    }
    data_ = write_tiny_data(dir_ / "data", 96);
    bertforge::model::BertConfig c = bertforge::model::BertConfig::load(write_tiny_config(dir_ / "config.json"));
    c.num_hidden_layers = 2;
    c.hidden_dropout_prob = c.attention_probs_dropout_prob = 0;
    c.save((dir_ / "config.json").string());
  }

  void TearDown() override {
    for (const Process& p : started_) {
      kill(p.pid, SIGKILL);  // launchers: their ranks die with them (PR_SET_PDEATHSIG)
      wait_for(p, 5s);
    }
    if (made_) sh("ip netns del " + ns_[0] + "; ip netns del " + ns_[1], dir_ / "teardown.log");
    if (!HasFailure()) fs::remove_all(dir_);
  }

  // Namespaces of a test process that was killed before its TearDown ("bfn<pid>a", "bfn<pid>b").
  void remove_stale_namespaces() {
    std::istringstream names(sh(ip_tool() + " netns list", dir_ / "list.log").second);
    for (std::string name; names >> name;) {
      if (name.rfind("bfn", 0) != 0 || name.size() < 5) continue;
      std::string pid = name.substr(3, name.size() - 4);
      if (pid.find_first_not_of("0123456789") == std::string::npos && kill(std::stoi(pid), 0) != 0 && errno == ESRCH)
        sh(ip_tool() + " netns del " + name, dir_ / "list.log");
    }
  }

  std::string ip(int host) const { return "ip -n " + ns_[host] + " "; }
  void link(int host, bool up) {
    auto [s, o] = sh(ip(host) + "link set " + veth_[host] + (up ? " up" : " down"), dir_ / "link.log");
    ASSERT_EQ(s, 0) << o;
  }

  // pretrain's arguments for `batch` sequences per rank into `out`; `extra` replaces options of the same name.
  Args pretrain(const std::string& out, int batch, const Args& extra = {}) const {
    Args a{"pretrain", "--threads", "1", "--quiet", "--device", "cpu", "--model", (dir_ / "config.json").string(),
           "--train_data", data_, "--output_dir", (dir_ / out).string(), "--per_device_train_batch_size",
           std::to_string(batch), "--max_steps", "6", "--logging_steps", "1", "--save_steps", "3",
           "--learning_rate", "1e-3", "--lr_scheduler_type", "constant", "--seed", "3"};
    for (std::size_t i = 0; i + 1 < extra.size(); i += 2) {
      auto same = std::find(a.begin(), a.end(), extra[i]);
      if (same == a.end()) a.push_back(extra[i]), a.push_back(extra[i + 1]);
      else *(same + 1) = extra[i + 1];
    }
    return a;
  }

  // Node `host` of a 2-node run, `nproc` ranks, launched inside its namespace.
  Process node(int host, int nproc, const Args& command, const Env& env = {}) {
    Args a{ip_tool(), "netns", "exec", ns_[host], kBin, "launch", "--nnodes", "2", "--node-rank", std::to_string(host),
           "--nproc-per-node", std::to_string(nproc), "--master-addr", kAddress[0], "--master-port",
           std::to_string(kPort), "--"};
    a.insert(a.end(), command.begin(), command.end());
    started_.push_back(start(a, env, (dir_ / ("node" + std::to_string(host) + ".log")).string()));
    return started_.back();
  }

  // Both nodes, node 1 first (it must wait for node 0's store, not fail).
  std::array<Process, 2> nodes(int nproc, const Args& command, const Env& env = {}) {
    Process one = node(1, nproc, command, env);
    std::this_thread::sleep_for(200ms);
    return {node(0, nproc, command, env), one};
  }

  void run_ok(const Args& command, const std::string& log) {
    Args a{kBin};
    a.insert(a.end(), command.begin(), command.end());
    auto status = wait_for(start(a, {}, (dir_ / log).string()), 180s);
    ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << read_file((dir_ / log).string());
  }

  void both_ok(const std::array<Process, 2>& n) {
    for (const Process& p : n) {
      auto status = wait_for(p, 180s);
      EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << read_file(p.log);
    }
  }

  void expect_same_run(const std::string& a, const std::string& b) {
    auto la = losses(dir_ / a), lb = losses(dir_ / b);
    ASSERT_EQ(la.size(), 6u) << a;
    ASSERT_EQ(la.size(), lb.size()) << b;
    const Tolerance t = reordered();
    for (std::size_t i = 0; i < la.size(); ++i)
      EXPECT_TRUE(loss_close(at::scalar_tensor(lb[i], at::kDouble), at::scalar_tensor(la[i], at::kDouble), t))
          << "step " << i + 1 << ": " << la[i] << " vs " << lb[i];
    expect_same_weights(dir_ / a / "checkpoint-6", dir_ / b / "checkpoint-6");
  }

  // Waits (bounded) until the run in `out` has saved checkpoint-`step`.
  void wait_for_checkpoint(const std::string& out, int step, const std::array<Process, 2>& n) {
    auto deadline = Clock::now() + 120s;
    while (!fs::exists(dir_ / out / ("checkpoint-" + std::to_string(step)) / "bertforge_state.json") &&
           Clock::now() < deadline)
      std::this_thread::sleep_for(50ms);
    ASSERT_TRUE(fs::exists(dir_ / out / ("checkpoint-" + std::to_string(step)))) << read_file(n[0].log) << read_file(n[1].log);
  }

  struct Stop {
    std::optional<int> status;
    double seconds = 0;
    std::string log;
  };
  // Waits for both launchers, each at most kStopWithin after `fault`, and says how long each took (in runs
  // of --ddp_timeout `timeout`).
  std::array<Stop, 2> stops(const std::array<Process, 2>& n, Clock::time_point fault, const std::string& what,
                            int timeout = kTimeout) {
    std::array<Stop, 2> s;
    std::array<bool, 2> done{false, false};
    while ((!done[0] || !done[1]) && Clock::now() < fault + kStopWithin)
      for (int h : {0, 1}) {
        int status = 0;
        if (done[h] || waitpid(n[h].pid, &status, WNOHANG) != n[h].pid) continue;
        done[h] = true;
        s[h].status = status;
        s[h].seconds = std::chrono::duration<double>(Clock::now() - fault).count();
      }
    std::this_thread::sleep_for(20ms);
    for (int h : {0, 1}) s[h].log = read_file(n[h].log);
    std::printf("time to stop (%s, --ddp_timeout %d): node 0 %s, node 1 %s\n", what.c_str(), timeout,
                done[0] ? (std::to_string(s[0].seconds) + " s").c_str() : "still running",
                done[1] ? (std::to_string(s[1].seconds) + " s").c_str() : "still running");
    return s;
  }

  static void expect_failed_naming(const Stop& s, const std::string& peer) {
    ASSERT_TRUE(s.status) << "still running " << kStopWithin.count() << " s after the fault\n" << s.log;
    EXPECT_NE(*s.status, 0) << s.log;
    EXPECT_NE(s.log.find(peer), std::string::npos) << "no line names '" << peer << "'\n" << s.log;
  }

  // A run of 2 nodes x `nproc` ranks that goes on until stopped, saving every 2 steps; returns once
  // checkpoint-2 is written.
  std::array<Process, 2> long_run(const std::string& out, int nproc, int timeout = kTimeout) {
    auto n = nodes(nproc, pretrain(out, 8 / (2 * nproc), {"--max_steps", "100000", "--save_steps", "2",
                                                         "--ddp_timeout", std::to_string(timeout)}));
    wait_for_checkpoint(out, 2, n);
    return n;
  }

  // A long run of 2 nodes x `nproc` ranks whose last rank is frozen with SIGSTOP; how the launchers stopped.
  std::array<Stop, 2> freeze_last_rank_of_node_1(int nproc, const std::string& what) {
    auto n = long_run("frozen", nproc);
    auto ranks = children_of(n[1].pid);
    EXPECT_EQ(ranks.size(), static_cast<std::size_t>(nproc));
    if (!ranks.empty()) kill(ranks.back(), SIGSTOP);
    return stops(n, Clock::now(), what);
  }

  // After a fault: every checkpoint is whole, and 2 more steps from the latest (resumed on both nodes, the
  // link up) end where one process trained from the start ends.
  void expect_resume_continues_exactly(const std::string& out) {
    int latest = latest_checkpoint(dir_ / out);
    ASSERT_GE(latest, 2);
    std::string steps = std::to_string(latest + 2);
    both_ok(nodes(1, pretrain(out, 4, {"--max_steps", steps, "--save_steps", "2", "--resume_from_checkpoint", "latest"})));
    run_ok(pretrain("reference", 8, {"--max_steps", steps, "--save_steps", steps}), "reference.log");
    expect_same_weights(dir_ / "reference" / ("checkpoint-" + steps), dir_ / out / ("checkpoint-" + steps));
  }

  fs::path dir_;
  std::string data_;
  std::array<std::string, 2> ns_, veth_;
  bool made_ = false;
  std::vector<Process> started_;
};

// 2 nodes x 1 rank x batch 4 over GLOO_SOCKET_IFNAME == 1 process x batch 8.
TEST_F(TwoHosts, TwoNodesOfOneRankTrainAsOneProcess) {
  run_ok(pretrain("one", 8), "one.log");
  Process n1 = node(1, 1, pretrain("nodes", 4), {{"GLOO_SOCKET_IFNAME", veth_[1]}});
  Process n0 = node(0, 1, pretrain("nodes", 4), {{"GLOO_SOCKET_IFNAME", veth_[0]}});
  both_ok({n0, n1});
  expect_same_run("one", "nodes");
}

// 2 nodes x 2 ranks x batch 2, on the interface bertforge picks (no GLOO_SOCKET_IFNAME) == 1 process x batch 8.
TEST_F(TwoHosts, TwoNodesOfTwoRanksTrainAsOneProcessOnTheInterfaceBertforgePicks) {
  run_ok(pretrain("one", 8), "one.log");
  both_ok(nodes(2, pretrain("nodes", 2)));
  expect_same_run("one", "nodes");
  for (const char* log : {"node0.log", "node1.log"})
    EXPECT_EQ(read_file((dir_ / log).string()).find("[c10d]"), std::string::npos) << read_file((dir_ / log).string());
}

// A checkpoint of 2 nodes resumes on 1 process, and one of 1 process on 2 nodes (the same global batch).
TEST_F(TwoHosts, ResumeMovesBetweenTwoNodesAndOneProcess) {
  run_ok(pretrain("one", 8), "one.log");
  both_ok(nodes(1, pretrain("nodes", 4, {"--max_steps", "3"})));
  fs::create_directories(dir_ / "to_one");
  fs::copy(dir_ / "nodes" / "checkpoint-3", dir_ / "to_one" / "checkpoint-3", fs::copy_options::recursive);
  run_ok(pretrain("to_one", 8, {"--resume_from_checkpoint", "latest"}), "to_one.log");
  expect_same_weights(dir_ / "one" / "checkpoint-6", dir_ / "to_one" / "checkpoint-6");
  fs::create_directories(dir_ / "to_nodes");
  fs::copy(dir_ / "one" / "checkpoint-3", dir_ / "to_nodes" / "checkpoint-3", fs::copy_options::recursive);
  both_ok(nodes(1, pretrain("to_nodes", 4, {"--resume_from_checkpoint", "latest"})));
  expect_same_weights(dir_ / "one" / "checkpoint-6", dir_ / "to_nodes" / "checkpoint-6");
}

// Node 1's link cut: node 0 names rank 1, node 1 names the store it cannot reach; both stop in time, and the
// run resumes exactly once the link is back.
TEST_F(TwoHosts, LinkCutOnANodeStopsBothNodesAndTheRunResumes) {
  auto n = long_run("cut", 1);
  link(1, false);
  auto s = stops(n, Clock::now(), "link of node 1 cut");
  expect_failed_naming(s[0], "rank 1 stopped responding");
  expect_failed_naming(s[1], std::string("rendezvous store at ") + kAddress[0] + ":" + std::to_string(kPort) + " does not answer");
  link(1, true);
  expect_resume_continues_exactly("cut");
}

// The master's link cut while 2 x 2 ranks train, with a --ddp_timeout far beyond the test's wait; then Ctrl-C
// on node 0's launcher and SIGTERM on node 1's: the signals alone stop every rank, each naming what it lost.
TEST_F(TwoHosts, LinkCutOnTheMasterNodeThenSignalsStopEveryRank) {
  constexpr int kLongTimeout = 600;
  auto n = long_run("cut", 2, kLongTimeout);
  link(0, false);
  std::this_thread::sleep_for(1s);
  auto signalled = Clock::now();
  kill(n[0].pid, SIGINT);
  kill(n[1].pid, SIGTERM);
  auto s = stops(n, signalled, "link of node 0 cut, then SIGINT and SIGTERM", kLongTimeout);
  expect_failed_naming(s[0], "stopped by signal 2 while waiting for the other ranks: ranks 2, 3 stopped responding");
  expect_failed_naming(s[1], "stopped by signal 15 while waiting for the other ranks: the rendezvous store at " +
                                 std::string(kAddress[0]) + ":" + std::to_string(kPort) + " does not answer");
}

// Node 1's launcher killed with SIGKILL: its ranks die with it, node 0 names them.
TEST_F(TwoHosts, LauncherKilledStopsTheOtherNode) {
  auto n = long_run("killed", 1);
  kill(n[1].pid, SIGKILL);
  auto s = stops(n, Clock::now(), "launcher of node 1 killed");
  expect_failed_naming(s[0], "rank 1");
}

// Node 0's launcher, which hosts the store, killed with SIGKILL: node 1 says the store is gone.
TEST_F(TwoHosts, StoreGoneStopsTheOtherNode) {
  auto n = long_run("store", 1);
  kill(n[0].pid, SIGKILL);
  auto s = stops(n, Clock::now(), "node 0's launcher and store killed");
  expect_failed_naming(s[1], std::string("rendezvous store at ") + kAddress[0]);
}

// A rank of node 1 frozen with SIGSTOP: the others name it; its node's launcher stops it (SIGCONT + SIGTERM)
// when its node-mate fails.
TEST_F(TwoHosts, FrozenRankIsNamedAndStopped) {
  auto s = freeze_last_rank_of_node_1(2, "rank 3 frozen");
  expect_failed_naming(s[0], "rank 3 stopped responding");
  expect_failed_naming(s[1], "rank 3 stopped responding");
}

// The only rank of node 1 frozen: node 0 names it; node 1's launcher, seeing node 0's store close, stops it.
TEST_F(TwoHosts, FrozenRankAloneOnItsNodeIsStoppedByItsLauncher) {
  auto s = freeze_last_rank_of_node_1(1, "the only rank of node 1 frozen");
  expect_failed_naming(s[0], "rank 1 stopped responding");
  expect_failed_naming(s[1], "store at 10.250.0.1:29500 closed (node 0's launcher ended)");
}

// A link down for less than --ddp_timeout: training goes on.
TEST_F(TwoHosts, LinkDownForLessThanTheTimeoutIsRiddenOut) {
  auto n = long_run("flap", 1);
  link(1, false);
  std::this_thread::sleep_for(std::chrono::seconds(kTimeout / 3));
  link(1, true);
  std::size_t at_restore = metrics(dir_ / "flap").size();
  auto deadline = Clock::now() + 60s;
  while (metrics(dir_ / "flap").size() < at_restore + 5 && Clock::now() < deadline) std::this_thread::sleep_for(100ms);
  EXPECT_GE(metrics(dir_ / "flap").size(), at_restore + 5) << read_file(n[0].log) << read_file(n[1].log);
  for (const Process& p : n) kill(p.pid, SIGINT);
  for (const Process& p : n) {
    auto status = wait_for(p, 60s);
    ASSERT_TRUE(status) << read_file(p.log);
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 128 + SIGINT) << read_file(p.log);
  }
}
