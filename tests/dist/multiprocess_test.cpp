// Several processes on loopback with Gloo, driven through dist_toy_train (tests/dist/toy_train.cpp) and
// `bertforge launch`. Each test takes its own free port.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <sstream>
#include <thread>

#include "common/process.h"
#include "common/paths.h"
#include "common/tolerance.h"

namespace fs = std::filesystem;
using namespace bertforge::testing;
using namespace std::chrono_literals;
using Env = std::map<std::string, std::string>;

namespace {

const std::string kToy = ::bertforge::testing::dist_toy_bin();
const std::string kBin = ::bertforge::testing::bertforge_bin();


Env rank_env(int rank, int size, int port) {
  return {{"RANK", std::to_string(rank)}, {"WORLD_SIZE", std::to_string(size)}, {"LOCAL_RANK", std::to_string(rank)},
          {"LOCAL_WORLD_SIZE", std::to_string(size)}, {"MASTER_ADDR", "127.0.0.1"},
          {"MASTER_PORT", std::to_string(port)}};
}

// Runs to completion within `deadline` and must exit 0; returns its output.
std::string run_ok(const std::vector<std::string>& argv, const Env& env, const std::string& log) {
  auto status = wait_for(start(argv, env, log), 120s);
  std::string out = read_file(log);
  EXPECT_TRUE(status && *status == 0) << out;
  return out;
}

std::vector<std::pair<std::string, double>> read_values(const std::string& path) {
  std::istringstream in(read_file(path));
  std::vector<std::pair<std::string, double>> v;
  std::string name;
  double x;
  while (in >> name >> x) v.emplace_back(name, x);
  return v;
}

std::vector<double> losses(const std::string& out) {
  std::istringstream in(out);
  std::vector<double> v;
  std::string line;
  while (std::getline(in, line)) {
    int step;
    double loss;
    if (std::sscanf(line.c_str(), "step %d loss %lf", &step, &loss) == 2) v.push_back(loss);
  }
  return v;
}

// The tolerance table's reordered row: the two runs sum the same products in a different order.
void expect_same_training(const std::string& dir_a, const std::string& out_a, const std::string& dir_b,
                          const std::string& out_b) {
  auto la = losses(out_a), lb = losses(out_b);
  ASSERT_EQ(la.size(), lb.size()) << out_a << "\n---\n" << out_b;
  ASSERT_FALSE(la.empty());
  const Tolerance t = reordered();
  for (std::size_t i = 0; i < la.size(); ++i) EXPECT_NEAR(la[i], lb[i], t.loss * std::abs(la[i])) << "step " << i + 1;
  auto pa = read_values(dir_a + "/params.txt"), pb = read_values(dir_b + "/params.txt");
  ASSERT_EQ(pa.size(), pb.size());
  ASSERT_GT(pa.size(), 600u);
  for (std::size_t i = 0; i < pa.size(); ++i) {
    ASSERT_EQ(pa[i].first, pb[i].first);
    EXPECT_NEAR(pa[i].second, pb[i].second, t.values * (1 + std::abs(pb[i].second))) << pa[i].first << " element " << i;
  }
}

std::vector<std::string> toy(const std::string& dir, std::vector<std::string> extra = {}) {
  std::vector<std::string> a{kToy, "--steps", "6", "--global-batch", "8", "--out", dir + "/params.txt", "--verify"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

}  // namespace

// Each test works in a folder of its own, removed when the test passed (kept for a look when it failed).
class MultiProcess : public ::testing::Test {
 protected:
  std::string temp_dir() {
    auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("bertforge_dist_" + std::to_string(getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    return dir_.string();
  }
  void TearDown() override {
    if (!HasFailure() && !dir_.empty()) fs::remove_all(dir_);
  }
  fs::path dir_;
};

// 2 processes x batch 4 (through `bertforge launch`) == 1 process x batch 8; and with 2 micro-batches each.
TEST_F(MultiProcess, TwoRanksMatchOneRankWithTwiceTheBatch) {
  std::string base = temp_dir(), one = base + "/one", two = base + "/two", acc = base + "/acc";
  for (auto& d : {one, two, acc}) fs::create_directories(d);
  std::string out1 = run_ok(toy(one), {}, one + "/log");
  auto launch = [](std::vector<std::string> command) {
    std::vector<std::string> argv{kBin, "launch", "--nproc-per-node", "2", "--master-port",
                                  std::to_string(free_port()), "--exec", "--"};
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
  };
  std::string out2 = run_ok(launch(toy(two)), {}, two + "/log");
  expect_same_training(one, out1, two, out2);
  std::string out3 = run_ok(launch(toy(acc, {"--accum", "2"})), {}, acc + "/log");
  expect_same_training(one, out1, acc, out3);
}

// --verify catches a single flipped bit on one rank, names the parameter, and every rank fails.
TEST_F(MultiProcess, VerifyNamesAParameterThatDiffers) {
  std::string dir = temp_dir();
  int port = free_port();
  auto args = toy(dir, {"--perturb-rank", "1"});
  Process r0 = start(args, rank_env(0, 2, port), dir + "/r0"), r1 = start(args, rank_env(1, 2, port), dir + "/r1");
  for (const Process& p : {r0, r1}) {
    auto status = wait_for(p, 60s);
    std::string out = read_file(p.log);
    ASSERT_TRUE(status) << out;
    EXPECT_EQ(WEXITSTATUS(*status), 1) << out;
    EXPECT_NE(out.find("parameters differ between ranks: 4.bias"), std::string::npos) << out;
  }
}

// Two "nodes" on this machine: two launchers, --nnodes 2, one rank each, loopback rendezvous.
TEST_F(MultiProcess, TwoLaunchersAsTwoNodes) {
  std::string base = temp_dir(), one = base + "/one", nodes = base + "/nodes";
  fs::create_directories(one), fs::create_directories(nodes);
  std::string out1 = run_ok(toy(one), {}, one + "/log");
  std::string port = std::to_string(free_port());
  std::vector<Process> launchers;
  for (int node : {1, 0}) {  // node 1 first: it must wait for node 0's store, not fail
    std::vector<std::string> argv{kBin, "launch", "--nnodes", "2", "--node-rank", std::to_string(node),
                                  "--nproc-per-node", "1", "--master-addr", "127.0.0.1", "--master-port", port,
                                  "--exec", "--"};
    for (auto& a : toy(nodes)) argv.push_back(a);
    launchers.push_back(start(argv, {}, nodes + "/log" + std::to_string(node)));
    std::this_thread::sleep_for(300ms);
  }
  for (auto& l : launchers) {
    auto status = wait_for(l, 120s);
    EXPECT_TRUE(status && *status == 0) << read_file(l.log);
  }
  expect_same_training(one, out1, nodes, read_file(nodes + "/log0"));
}

// A rank killed mid-training: the survivor fails its next collective, names the rank, exits non-zero.
TEST_F(MultiProcess, KilledRankIsNamedBySurvivor) {
  std::string dir = temp_dir();
  int port = free_port();
  auto args = toy(dir, {"--steps", "50", "--die-rank", "1", "--die-at-step", "3", "--dist-timeout-ms", "5000"});
  Process r0 = start(args, rank_env(0, 2, port), dir + "/r0"), r1 = start(args, rank_env(1, 2, port), dir + "/r1");
  auto t0 = std::chrono::steady_clock::now();
  auto s1 = wait_for(r1, 60s);
  ASSERT_TRUE(s1 && WIFSIGNALED(*s1) && WTERMSIG(*s1) == SIGKILL) << read_file(r1.log);
  auto s0 = wait_for(r0, 10s);  // within the 5 s timeout plus the diagnosis
  std::string out = read_file(r0.log);
  ASSERT_TRUE(s0) << "rank 0 still running 10 s after rank 1 died\n" << out;
  EXPECT_NE(*s0, 0);
  EXPECT_NE(out.find("rank 1 stopped responding"), std::string::npos) << out;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 15s);
}

// A rank that hangs (alive, never reaching the collective): the others give up after --dist-timeout.
TEST_F(MultiProcess, HungRankTimesOutAndIsNamed) {
  std::string dir = temp_dir();
  int port = free_port();
  auto args = toy(dir, {"--steps", "50", "--hang-rank", "1", "--hang-at-step", "2", "--dist-timeout-ms", "3000"});
  Process r0 = start(args, rank_env(0, 2, port), dir + "/r0"), r1 = start(args, rank_env(1, 2, port), dir + "/r1");
  auto s0 = wait_for(r0, 20s);
  kill(r1.pid, SIGKILL);
  wait_for(r1, 5s);
  std::string out = read_file(r0.log);
  ASSERT_TRUE(s0) << "rank 0 hung with rank 1\n" << out;
  EXPECT_NE(*s0, 0);
  EXPECT_NE(out.find("rank 1 never reached collective"), std::string::npos) << out;
}

// Through the launcher: the failure is reported by rank, the other rank is stopped, the status is non-zero.
TEST_F(MultiProcess, LauncherStopsEveryRankWhenOneFails) {
  std::string dir = temp_dir();
  std::vector<std::string> argv{kBin, "launch", "--nproc-per-node", "2", "--master-port", std::to_string(free_port()),
                                "--grace", "5", "--exec", "--"};
  for (auto& a : toy(dir, {"--steps", "50", "--die-rank", "1", "--die-at-step", "3"})) argv.push_back(a);
  auto status = wait_for(start(argv, {}, dir + "/log"), 30s);
  std::string out = read_file(dir + "/log");
  ASSERT_TRUE(status) << out;
  EXPECT_EQ(WEXITSTATUS(*status), 128 + SIGKILL) << out;
  EXPECT_NE(out.find("rank 1 (pid"), std::string::npos) << out;
  EXPECT_NE(out.find("was killed by signal 9"), std::string::npos) << out;
}

// Ctrl-C on the launcher reaches every rank (here they die of it: the toy has no handler).
TEST_F(MultiProcess, InterruptReachesEveryRank) {
  std::string dir = temp_dir();
  std::vector<std::string> argv{kBin, "launch", "--nproc-per-node", "2", "--master-port", std::to_string(free_port()),
                                "--exec", "--"};
  for (auto& a : toy(dir, {"--steps", "1", "--hang-rank", "0", "--hang-at-step", "0"})) argv.push_back(a);
  Process launcher = start(argv, {}, dir + "/log");
  // Both ranks are up once rank 0 says it hangs (rank 1 then waits in its first collective); on a loaded
  // machine that can take much longer than a fixed sleep would allow.
  for (int i = 0; i < 600 && read_file(dir + "/log").find("hangs at step") == std::string::npos; ++i)
    std::this_thread::sleep_for(100ms);
  kill(launcher.pid, SIGINT);
  auto status = wait_for(launcher, 20s);
  std::string out = read_file(dir + "/log");
  ASSERT_TRUE(status) << out;
  EXPECT_EQ(WEXITSTATUS(*status), 128 + SIGINT) << out;
  EXPECT_NE(out.find("passed on to every rank"), std::string::npos) << out;
}
