// `bertforge pretrain` as a process: SIGTERM finishes the step, saves and exits 128 + SIGTERM; kill -9 at random instants
// (mostly while saving, with a checkpoint every step) never leaves a partial checkpoint-N, and the resumed
// run ends with the same per-step losses as an uninterrupted one.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "bertforge/train/checkpoint.h"
#include "bertforge/train/trainer_state.h"
#include "train/tiny_data.h"
#include "common/paths.h"

namespace fs = std::filesystem;
using namespace bertforge::train;

namespace {

struct RunDir {
  fs::path root;
  std::string data, config;
};

RunDir make_run(const std::string& name) {
  RunDir r{fs::temp_directory_path() / ("bf_process_" + name), "", ""};
  fs::remove_all(r.root);
  fs::create_directories(r.root);
  r.data = bertforge::testing::write_tiny_data(r.root / "data", 40);
  r.config = bertforge::testing::write_tiny_config(r.root / "config.json");
  return r;
}

pid_t start(const RunDir& r, const std::string& out, const std::vector<std::string>& extra) {
  std::vector<std::string> args{::bertforge::testing::bertforge_bin(), "pretrain", "--threads", "1", "--quiet", "--device", "cpu",
                                "--model", r.config, "--train_data", r.data, "--output_dir", (r.root / out).string(),
                                "--per_device_train_batch_size", "4", "--logging_steps", "1", "--learning_rate", "1e-3"};
  args.insert(args.end(), extra.begin(), extra.end());
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::vector<double> losses(const fs::path& state) {
  std::vector<double> out;
  for (const auto& e : TrainerState::load(state.string()).log_history)
    if (e.contains("loss")) out.push_back(e["loss"].get<double>());
  return out;
}

void expect_whole_checkpoints(const fs::path& out) {
  for (const auto& c : list_checkpoints(out.string())) {
    for (const char* f : {"config.json", "model.safetensors", "optimizer_state.pt", "rng_state.pt",
                          "bertforge_state.json", "training_args.json", "trainer_state.json"})
      ASSERT_TRUE(fs::exists(fs::path(c) / f)) << c << " lacks " << f;
    auto step = std::stoll(fs::path(c).filename().string().substr(11));
    EXPECT_EQ(TrainerState::load(c + "/trainer_state.json").global_step, step);
  }
}

}  // namespace

TEST(TrainerProcess, KillNineWhileSavingThenResumeMatchesUninterrupted) {
  RunDir r = make_run("kill9");
  std::vector<std::string> opts{"--max_steps", "40", "--save_steps", "1", "--save_total_limit", "2"};
  ASSERT_EQ(wait_exit(start(r, "straight", opts)), 0);
  std::vector<double> want = losses(r.root / "straight" / "trainer_state.json");
  ASSERT_EQ(want.size(), 40u);

  std::mt19937 gen(7);
  int kills = 0;
  for (int attempt = 0; attempt < 12 && kills < 6; ++attempt) {
    auto extra = opts;
    if (last_checkpoint((r.root / "killed").string())) extra.insert(extra.end(), {"--resume_from_checkpoint", "latest"});
    pid_t pid = start(r, "killed", extra);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<>(300, 1500)(gen)));
    if (kill(pid, SIGKILL) == 0) ++kills;
    wait_exit(pid);
    expect_whole_checkpoints(r.root / "killed");
    // save_total_limit 2, plus one when the kill fell between publishing a checkpoint and rotating
    EXPECT_LE(list_checkpoints((r.root / "killed").string()).size(), 3u);
  }
  EXPECT_GE(kills, 3);
  auto extra = opts;
  if (last_checkpoint((r.root / "killed").string())) extra.insert(extra.end(), {"--resume_from_checkpoint", "latest"});
  ASSERT_EQ(wait_exit(start(r, "killed", extra)), 0);
  EXPECT_EQ(losses(r.root / "killed" / "trainer_state.json"), want);
  fs::remove_all(r.root);
}

TEST(TrainerProcess, SigtermFinishesTheStepSavesAndExits128PlusSignal) {
  RunDir r = make_run("sigterm");
  pid_t pid = start(r, "out", {"--max_steps", "100000", "--save_steps", "100000"});
  fs::path metrics = r.root / "out" / "metrics.jsonl";
  for (int i = 0; i < 600; ++i) {  // until a few steps are logged (at most a minute)
    std::ifstream in(metrics);
    std::string line;
    int lines = 0;
    while (std::getline(in, line)) ++lines;
    if (lines >= 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "killed instead of stopping: status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);  // as a shell reports a signal, so `pretrain && export` stops
  auto last = last_checkpoint((r.root / "out").string());
  ASSERT_TRUE(last);
  TrainerState s = TrainerState::load(*last + "/trainer_state.json");
  EXPECT_GE(s.global_step, 3);
  EXPECT_EQ(s.log_history.back()["step"], s.global_step);  // the step in flight was finished and logged
  fs::remove_all(r.root);
}
