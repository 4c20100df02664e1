// `bertforge pretrain` as a process: SIGTERM finishes the step, saves and exits 128 + SIGTERM; kill -9 at random instants
// (mostly while saving, with a checkpoint every step) never leaves a partial checkpoint-N, and the resumed
// run ends with the same per-step losses as an uninterrupted one.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "train/pretrain_process.h"

namespace fs = std::filesystem;
using namespace bertforge::train;
using namespace bertforge::testing;

TEST(TrainerProcess, KillNineWhileSavingThenResumeMatchesUninterrupted) {
  RunDir r = make_run("kill9");
  std::vector<std::string> opts{"--max_steps", "40", "--save_steps", "1", "--save_total_limit", "2"};
  ASSERT_EQ(wait_exit(start_pretrain(r, "straight", opts)), 0);
  std::vector<double> want = losses(r.root / "straight" / "trainer_state.json");
  ASSERT_EQ(want.size(), 40u);

  std::mt19937 gen(7);
  int kills = 0;
  for (int attempt = 0; attempt < 12 && kills < 6; ++attempt) {
    auto extra = opts;
    if (last_checkpoint((r.root / "killed").string())) extra.insert(extra.end(), {"--resume_from_checkpoint", "latest"});
    Process p = start_pretrain(r, "killed", extra);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<>(300, 1500)(gen)));
    if (kill(p.pid, SIGKILL) == 0) ++kills;
    wait_exit(p);
    expect_whole_checkpoints(r.root / "killed");
    // save_total_limit 2, plus one when the kill fell between publishing a checkpoint and rotating
    EXPECT_LE(list_checkpoints((r.root / "killed").string()).size(), 3u);
  }
  EXPECT_GE(kills, 3);
  auto extra = opts;
  if (last_checkpoint((r.root / "killed").string())) extra.insert(extra.end(), {"--resume_from_checkpoint", "latest"});
  ASSERT_EQ(wait_exit(start_pretrain(r, "killed", extra)), 0);
  EXPECT_EQ(losses(r.root / "killed" / "trainer_state.json"), want);
  fs::remove_all(r.root);
}

TEST(TrainerProcess, SigtermFinishesTheStepSavesAndExits128PlusSignal) {
  RunDir r = make_run("sigterm");
  Process p = start_pretrain(r, "out", {"--max_steps", "100000", "--save_steps", "100000"});
  fs::path metrics = r.root / "out" / "metrics.jsonl";
  for (int i = 0; i < 600; ++i) {  // until a few steps are logged (at most a minute)
    std::ifstream in(metrics);
    std::string line;
    int lines = 0;
    while (std::getline(in, line)) ++lines;
    if (lines >= 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(p.pid, SIGTERM);
  auto status = wait_for(p, std::chrono::minutes(10));
  ASSERT_TRUE(status) << p.log << " ran past its deadline";
  ASSERT_TRUE(WIFEXITED(*status)) << "killed instead of stopping: status " << *status;
  EXPECT_EQ(WEXITSTATUS(*status), 128 + SIGTERM);  // as a shell reports a signal, so `pretrain && export` stops
  auto last = last_checkpoint((r.root / "out").string());
  ASSERT_TRUE(last);
  TrainerState s = TrainerState::load(*last + "/trainer_state.json");
  EXPECT_GE(s.global_step, 3);
  EXPECT_EQ(s.log_history.back()["step"], s.global_step);  // the step in flight was finished and logged
  fs::remove_all(r.root);
}
