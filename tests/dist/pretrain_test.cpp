// `bertforge pretrain` data-parallel, as users launch it: through `bertforge launch`, as two "nodes" on
// loopback, and as bare processes given torchrun's variables. The tiny BERT has no dropout, so that 2 ranks
// x batch 4 and 1 rank x batch 8 draw nothing differently: same masks (keyed by place in the epoch), same
// loss normalisation (labelled tokens of the whole step), hence the same loss log and weights.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "bertforge/model/safetensors.h"
#include "common/process.h"
#include "common/paths.h"
#include "common/tolerance.h"
#include "train/tiny_data.h"

namespace fs = std::filesystem;
using namespace bertforge::testing;
using namespace std::chrono_literals;
using Env = std::map<std::string, std::string>;
using Args = std::vector<std::string>;

namespace {

const std::string kBin = ::bertforge::testing::bertforge_bin();

class DistPretrain : public ::testing::Test {
 protected:
  void SetUp() override {
    auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("bertforge_dp_" + std::to_string(getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    data_ = write_tiny_data(dir_ / "data", 48);
    eval_ = write_tiny_data(dir_ / "eval", 19, 64, 7);  // 19: the two ranks' eval shards differ by one
    bertforge::model::BertConfig c = bertforge::model::BertConfig::load(write_tiny_config(dir_ / "config.json"));
    c.hidden_dropout_prob = c.attention_probs_dropout_prob = 0;
    c.save((dir_ / "config.json").string());
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  // pretrain's arguments for `batch` sequences per rank, into output folder `out`; `extra` options replace
  // the defaults of the same name.
  Args pretrain(const std::string& out, int batch, const Args& extra = {}) const {
    Args a{"pretrain", "--threads", "1", "--quiet", "--device", "cpu", "--model", (dir_ / "config.json").string(),
           "--train_data", data_, "--eval_data", eval_, "--output_dir", (dir_ / out).string(),
           "--per_device_train_batch_size", std::to_string(batch), "--per_device_eval_batch_size", "4",
           "--max_steps", "8", "--logging_steps", "1", "--eval_strategy", "steps", "--eval_steps", "4",
           "--save_steps", "4", "--learning_rate", "1e-3", "--seed", "3"};
    for (std::size_t i = 0; i < extra.size(); ++i) {
      bool valued = i + 1 < extra.size() && extra[i + 1].rfind("--", 0) != 0;
      auto same = std::find(a.begin(), a.end(), extra[i]);
      if (same == a.end()) {
        a.push_back(extra[i]);
        if (valued) a.push_back(extra[i + 1]);
      } else if (valued) {
        *(same + 1) = extra[i + 1];
      }
      if (valued) ++i;
    }
    return a;
  }
  Args launch(const Args& command, Args options = {"--nproc-per-node", "2"}) const {
    Args a{kBin, "launch", "--master-port", std::to_string(free_port())};
    a.insert(a.end(), options.begin(), options.end());
    a.push_back("--");
    a.insert(a.end(), command.begin(), command.end());
    return a;
  }
  std::string run_ok(const Args& argv, const std::string& log, const Env& env = {}) const {
    auto status = wait_for(start(argv, env, (dir_ / log).string()), 180s);
    std::string out = read_file((dir_ / log).string());
    EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << out;
    return out;
  }
  std::string one_rank_of_eight() const {
    Args a{kBin};
    for (auto& x : pretrain("one", 8)) a.push_back(x);
    run_ok(a, "one.log");
    return (dir_ / "one").string();
  }

  fs::path dir_;
  std::string data_, eval_;
};

std::vector<nlohmann::json> metrics(const std::string& out) {
  std::ifstream in(out + "/metrics.jsonl");
  std::vector<nlohmann::json> v;
  for (std::string line; std::getline(in, line);) v.push_back(nlohmann::json::parse(line));
  return v;
}

// The tolerance table's reordered row: the two runs add the same products in another order (per rank, then
// across ranks).
void expect_same_weights(const std::string& a, const std::string& b) {
  bertforge::model::SafetensorsFile wa(a + "/model.safetensors"), wb(b + "/model.safetensors");
  ASSERT_EQ(wa.entries().size(), wb.entries().size());
  for (const auto& e : wa.entries()) {
    at::Tensor x = wa.tensor(e.name), y = wb.tensor(e.name);
    EXPECT_TRUE(values_close(x, y, reordered())) << e.name << ": max difference " << (x - y).abs().max().item<double>();
  }
}

void expect_same_run(const std::string& a, const std::string& b) {
  auto ma = metrics(a), mb = metrics(b);
  ASSERT_EQ(ma.size(), mb.size()) << "metrics.jsonl of " << a << " and " << b;
  int losses = 0, evals = 0;
  for (std::size_t i = 0; i < ma.size(); ++i) {
    ASSERT_EQ(ma[i]["step"], mb[i]["step"]);
    for (const char* key : {"loss", "grad_norm", "eval_mlm_loss", "eval_mlm_accuracy", "eval_nsp_accuracy"}) {
      if (!ma[i].contains(key)) continue;
      double x = ma[i][key], y = mb[i][key];
      EXPECT_NEAR(x, y, reordered().values * (1 + std::abs(x))) << key << " at step " << ma[i]["step"];
      losses += std::string(key) == "loss", evals += std::string(key) == "eval_mlm_loss";
    }
    if (ma[i].contains("eval_samples")) EXPECT_EQ(ma[i]["eval_samples"], 19);
  }
  EXPECT_EQ(losses, 8);
  EXPECT_EQ(evals, 2);
  expect_same_weights(a + "/checkpoint-8", b + "/checkpoint-8");
}

}  // namespace

// 2 processes x batch 4 (bertforge launch) == 1 process x batch 8 == 1 process x 2 micro-batches of 4 ==
// 2 processes x 2 micro-batches of 2; rank 0 alone writes logs and checkpoints.
TEST_F(DistPretrain, TwoRanksOfFourTrainAsOneRankOfEight) {
  std::string one = one_rank_of_eight();
  run_ok(launch(pretrain("two", 4, {"--verify_parameters"})), "two.log");
  expect_same_run(one, (dir_ / "two").string());
  EXPECT_TRUE(fs::exists(dir_ / "two" / "checkpoint-4" / "optimizer_state.pt"));
  Args accumulate{kBin};
  for (auto& a : pretrain("accumulate", 4, {"--gradient_accumulation_steps", "2"})) accumulate.push_back(a);
  run_ok(accumulate, "accumulate.log");
  expect_same_run(one, (dir_ / "accumulate").string());
  run_ok(launch(pretrain("both", 2, {"--gradient_accumulation_steps", "2"})), "both.log");
  expect_same_run(one, (dir_ / "both").string());
}

// Ranks of one machine sum gradients through shared memory; Gloo's sum of two ranks is the same one addition
// per element, so the two runs agree bit for bit. Where /dev/shm has no room (a 4 kB tmpfs mounted over it
// in a mount namespace of its own) the run says so in one line and trains over Gloo, again to the same bits.
TEST_F(DistPretrain, SharedMemoryAndGlooSumsTrainTheSameBits) {
  run_ok(launch(pretrain("shm", 4)), "shm.log");
  run_ok(launch(pretrain("gloo", 4)), "gloo.log", {{"BERTFORGE_GRADIENT_ALLREDUCE", "gloo"}});
  auto same_bits = [&](const std::string& a, const std::string& b) {
    auto ma = metrics((dir_ / a).string()), mb = metrics((dir_ / b).string());
    ASSERT_EQ(ma.size(), mb.size());
    for (std::size_t i = 0; i < ma.size(); ++i)
      if (ma[i].contains("loss")) EXPECT_EQ(ma[i]["loss"], mb[i]["loss"]) << b << " at step " << ma[i]["step"];
    bertforge::model::SafetensorsFile wa((dir_ / a / "checkpoint-8" / "model.safetensors").string()),
        wb((dir_ / b / "checkpoint-8" / "model.safetensors").string());
    for (const auto& e : wa.entries()) EXPECT_TRUE(at::equal(wa.tensor(e.name), wb.tensor(e.name))) << b << ": " << e.name;
  };
  same_bits("shm", "gloo");

  Args cramped{"/usr/bin/unshare", "--mount", "--propagation", "private", "sh", "-c",
               "mount -t tmpfs -o size=4k tmpfs /dev/shm && exec \"$@\"", "sh"};
  for (auto& a : launch(pretrain("cramped", 4))) cramped.push_back(a);
  auto status = wait_for(start(cramped, {}, (dir_ / "cramped.log").string()), 180s);
  std::string out = read_file((dir_ / "cramped.log").string());
  if (out.find("mount:") != std::string::npos || out.find("unshare:") != std::string::npos)
    GTEST_SKIP() << "cannot mount a small /dev/shm in a mount namespace (root and util-linux needed): " << out;
  ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << out;
  EXPECT_NE(out.find("note: the gradient all-reduce goes over Gloo: rank 0: /dev/shm has no room for"),
            std::string::npos)
      << out;
  same_bits("shm", "cramped");
}

// Two "nodes" on this machine: two launchers, --nnodes 2, one rank each; node 1 starts first and waits.
TEST_F(DistPretrain, TwoLaunchersAsTwoNodes) {
  std::string one = one_rank_of_eight();
  std::string port = std::to_string(free_port());
  std::vector<Process> nodes;
  for (int node : {1, 0}) {
    Args argv{kBin, "launch", "--nnodes", "2", "--node-rank", std::to_string(node), "--nproc-per-node", "1",
              "--master-addr", "127.0.0.1", "--master-port", port, "--"};
    for (auto& a : pretrain("nodes", 4)) argv.push_back(a);
    nodes.push_back(start(argv, {}, (dir_ / ("node" + std::to_string(node) + ".log")).string()));
    std::this_thread::sleep_for(300ms);
  }
  for (auto& n : nodes) {
    auto status = wait_for(n, 180s);
    EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << read_file(n.log);
  }
  expect_same_run(one, (dir_ / "nodes").string());
}

// save_on_each_node, for nodes without a shared disk: each node's first rank writes the checkpoints into its
// own output_dir (here one per node), the same checkpoints; without it node 1 writes none.
TEST_F(DistPretrain, SaveOnEachNodeWritesEveryNodesCheckpoints) {
  for (bool each : {true, false}) {
    const std::string tag = each ? "each" : "main";
    std::string port = std::to_string(free_port());
    std::vector<Process> nodes;
    for (int node : {1, 0}) {
      Args argv{kBin, "launch", "--nnodes", "2", "--node-rank", std::to_string(node), "--nproc-per-node", "1",
                "--master-addr", "127.0.0.1", "--master-port", port, "--"};
      for (auto& a : pretrain(tag + std::to_string(node), 4, {"--save_on_each_node", each ? "true" : "false"}))
        argv.push_back(a);
      nodes.push_back(start(argv, {}, (dir_ / (tag + std::to_string(node) + ".log")).string()));
      std::this_thread::sleep_for(300ms);
    }
    for (auto& n : nodes) {
      auto status = wait_for(n, 180s);
      EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << read_file(n.log);
    }
    EXPECT_TRUE(fs::exists(dir_ / (tag + "0") / "checkpoint-8")) << tag;
    EXPECT_EQ(fs::exists(dir_ / (tag + "1") / "checkpoint-8"), each) << tag;
    if (each) expect_same_weights((dir_ / "each0" / "checkpoint-8").string(), (dir_ / "each1" / "checkpoint-8").string());
  }
}

// A two-phase recipe (NVIDIA's BERT recipe shape: new data, learning rate and optimizer in phase 2): the
// second phase's trainer attaches to the same World again, and 2 x 4 still trains as 1 x 8.
TEST_F(DistPretrain, TwoPhaseRecipeTrainsAsOneRank) {
  nlohmann::json recipe{{"phases",
                         {{{"train_data", data_}, {"eval_data", eval_}, {"max_steps", 4}},
                          {{"train_data", write_tiny_data(dir_ / "data2", 32, 64, 2)}, {"max_steps", 4},
                           {"learning_rate", 5e-4}}}}};
  std::ofstream((dir_ / "recipe.json").string()) << recipe.dump();
  Args one{kBin};
  for (auto& a : pretrain("one", 8, {"--recipe", (dir_ / "recipe.json").string()})) one.push_back(a);
  run_ok(one, "one.log");
  run_ok(launch(pretrain("two", 4, {"--recipe", (dir_ / "recipe.json").string()})), "two.log");
  auto a = metrics((dir_ / "one").string()), b = metrics((dir_ / "two").string());
  ASSERT_EQ(a.size(), b.size());
  int losses = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].contains("loss")) {
      EXPECT_TRUE(loss_close(at::tensor(a[i]["loss"].get<double>()), at::tensor(b[i]["loss"].get<double>()), reordered()))
          << a[i]["step"];
      ++losses;
    }
  EXPECT_EQ(losses, 8);
  expect_same_weights((dir_ / "one" / "checkpoint-8").string(), (dir_ / "two" / "checkpoint-8").string());
}

// Resumed from step 4 with the same world size: the run ends as the uninterrupted one, bit for bit (each
// rank seeks its own shard; the generators are alike on every rank).
TEST_F(DistPretrain, ResumeAtTheSameWorldSize) {
  run_ok(launch(pretrain("whole", 4)), "whole.log");
  fs::create_directories(dir_ / "parts");
  fs::copy(dir_ / "whole" / "checkpoint-4", dir_ / "parts" / "checkpoint-4", fs::copy_options::recursive);
  run_ok(launch(pretrain("parts", 4, {"--resume_from_checkpoint", "latest"})), "parts.log");
  bertforge::model::SafetensorsFile a((dir_ / "whole/checkpoint-8/model.safetensors").string());
  bertforge::model::SafetensorsFile b((dir_ / "parts/checkpoint-8/model.safetensors").string());
  for (const auto& e : a.entries()) EXPECT_TRUE(at::equal(a.tensor(e.name), b.tensor(e.name))) << e.name;
}

// A 1-process checkpoint resumed on 2 processes with the same global batch (2 x 4 = 8): the loader position
// (epoch, batch) names the same sequences under both shardings, so the run ends as the 1-process one would.
TEST_F(DistPretrain, ResumeOnMoreRanksWithTheSameGlobalBatch) {
  std::string one = one_rank_of_eight();
  fs::create_directories(dir_ / "grown");
  fs::copy(dir_ / "one" / "checkpoint-4", dir_ / "grown" / "checkpoint-4", fs::copy_options::recursive);
  run_ok(launch(pretrain("grown", 4, {"--resume_from_checkpoint", "latest"})), "grown.log");
  expect_same_weights(one + "/checkpoint-8", (dir_ / "grown" / "checkpoint-8").string());
  auto a = metrics(one), b = metrics((dir_ / "grown").string());
  ASSERT_GE(a.size(), b.size());
  ASSERT_FALSE(b.empty());
  for (std::size_t i = 0; i < b.size(); ++i) {
    const auto& x = a[a.size() - b.size() + i];
    ASSERT_EQ(x["step"], b[i]["step"]);
    if (x.contains("loss"))
      EXPECT_TRUE(loss_close(at::tensor(x["loss"].get<double>()), at::tensor(b[i]["loss"].get<double>()), reordered()))
          << x["step"];
  }
}

// Bare processes with torchrun's variables (rank 0 hosts the store); rank 1 is killed mid-training: rank 0
// exits non-zero within the timeout, naming rank 1, and leaves no partial checkpoint.
TEST_F(DistPretrain, KilledRankIsNamedWithinTheTimeout) {
  std::string port = std::to_string(free_port());
  auto env = [&](int rank) {
    return Env{{"RANK", std::to_string(rank)}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", std::to_string(rank)},
               {"LOCAL_WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", port}};
  };
  Args argv{kBin};
  for (auto& a : pretrain("killed", 4, {"--max_steps", "100000", "--save_steps", "2", "--ddp_timeout", "5"}))
    argv.push_back(a);
  Process r0 = start(argv, env(0), (dir_ / "r0.log").string()), r1 = start(argv, env(1), (dir_ / "r1.log").string());
  auto deadline = std::chrono::steady_clock::now() + 120s;
  while (!fs::exists(dir_ / "killed" / "checkpoint-2") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(fs::exists(dir_ / "killed" / "checkpoint-2")) << read_file(r0.log);
  kill(r1.pid, SIGKILL);
  auto killed = std::chrono::steady_clock::now();
  wait_for(r1, 10s);
  auto s0 = wait_for(r0, 20s);
  std::string out = read_file(r0.log);
  ASSERT_TRUE(s0) << "rank 0 still running 20 s after rank 1 died\n" << out;
  EXPECT_TRUE(WIFEXITED(*s0) && WEXITSTATUS(*s0) != 0) << out;
  EXPECT_NE(out.find("rank 1"), std::string::npos) << out;
  EXPECT_LT(std::chrono::steady_clock::now() - killed, 15s);
  for (const auto& e : fs::directory_iterator(dir_ / "killed"))
    EXPECT_EQ(e.path().filename().string().find("tmp"), std::string::npos) << e.path();
}

// Ctrl-C on the launcher: every rank finishes the same step, rank 0 saves it, all exit 128 + SIGINT (and so
// does the launcher, as a shell would report it); the run resumes.
TEST_F(DistPretrain, InterruptStopsEveryRankAtTheSameStep) {
  Process launcher = start(launch(pretrain("stopped", 4, {"--max_steps", "100000", "--save_steps", "100000"})), {},
                           (dir_ / "stopped.log").string());
  auto deadline = std::chrono::steady_clock::now() + 120s;
  while (metrics((dir_ / "stopped").string()).size() < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  kill(launcher.pid, SIGINT);
  auto status = wait_for(launcher, 60s);
  std::string out = read_file(launcher.log);
  ASSERT_TRUE(status) << out;
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 128 + SIGINT) << out;
  EXPECT_EQ(out.find("stopping the other ranks"), std::string::npos) << out;
  std::vector<fs::path> saved;
  for (const auto& e : fs::directory_iterator(dir_ / "stopped"))
    if (e.path().filename().string().rfind("checkpoint-", 0) == 0) saved.push_back(e.path());
  ASSERT_EQ(saved.size(), 1u) << out;
  EXPECT_TRUE(fs::exists(saved[0] / "trainer_state.json")) << out;
}
