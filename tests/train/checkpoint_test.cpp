#include "bertforge/train/checkpoint.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "bertforge/train/trainer_state.h"
#include "bertforge/util/error.h"

namespace fs = std::filesystem;
using namespace bertforge::train;

namespace {
fs::path fresh_dir() {
  auto dir = fs::temp_directory_path() /
             (std::string("bf_ckpt_") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}
void touch_checkpoint(const fs::path& dir, int step) {
  write_checkpoint(dir.string(), step, [](const std::string& f) { std::ofstream(f + "/x") << "x"; });
}
std::vector<std::string> names(const fs::path& dir) {
  std::vector<std::string> out;
  for (auto& c : list_checkpoints(dir.string())) out.push_back(fs::path(c).filename().string());
  return out;
}
}  // namespace

TEST(Checkpoint, PublishedWholeOrNotAtAll) {
  auto dir = fresh_dir();
  touch_checkpoint(dir, 5);
  EXPECT_THROW(write_checkpoint(dir.string(), 10,
                                [](const std::string& f) {
                                  std::ofstream(f + "/half") << "x";
                                  throw bertforge::Error("disk full");
                                }),
               bertforge::Error);
  EXPECT_EQ(names(dir), std::vector<std::string>{"checkpoint-5"});
  EXPECT_FALSE(fs::exists(dir / "tmp-checkpoint-10"));
  fs::create_directories(dir / "tmp-checkpoint-12");  // what a kill -9 mid-save leaves
  EXPECT_EQ(*last_checkpoint(dir.string()), (dir / "checkpoint-5").string());
  remove_partial_checkpoints(dir.string());
  EXPECT_FALSE(fs::exists(dir / "tmp-checkpoint-12"));
  fs::remove_all(dir);
}

TEST(Checkpoint, LastByStepNumberNotName) {
  auto dir = fresh_dir();
  EXPECT_FALSE(last_checkpoint(dir.string()));
  for (int s : {9, 100, 20}) touch_checkpoint(dir, s);
  fs::create_directories(dir / "checkpoint-7x");
  EXPECT_EQ(names(dir), (std::vector<std::string>{"checkpoint-9", "checkpoint-20", "checkpoint-100"}));
  EXPECT_EQ(fs::path(*last_checkpoint(dir.string())).filename(), "checkpoint-100");
  fs::remove_all(dir);
}

TEST(Checkpoint, RotationKeepsNewestAndBestAsHf) {
  auto dir = fresh_dir();
  for (int s : {1, 2, 3, 4, 5}) touch_checkpoint(dir, s);
  rotate_checkpoints(dir.string(), 2, (dir / "checkpoint-2").string());
  EXPECT_EQ(names(dir), (std::vector<std::string>{"checkpoint-2", "checkpoint-5"}));
  touch_checkpoint(dir, 6);
  rotate_checkpoints(dir.string(), 1, (dir / "checkpoint-2").string());  // HF keeps 2: best and newest
  EXPECT_EQ(names(dir), (std::vector<std::string>{"checkpoint-2", "checkpoint-6"}));
  rotate_checkpoints(dir.string(), 1);
  EXPECT_EQ(names(dir), std::vector<std::string>{"checkpoint-6"});
  fs::remove_all(dir);
}

TEST(Checkpoint, RngStateRoundTrip) {
  auto dir = fresh_dir();
  std::string path = (dir / "rng_state.pt").string();
  at::manual_seed(3);
  save_rng_state(path);
  at::Tensor a = at::rand({4});
  at::manual_seed(99);
  load_rng_state(path);
  EXPECT_TRUE(at::equal(a, at::rand({4})));
  fs::remove_all(dir);
}

TEST(TrainerState, JsonRoundTripWithHfKeys) {
  TrainerState s;
  s.global_step = 12;
  s.epoch = 1.5;
  s.log_history.push_back({{"loss", 2.5}, {"step", 12}});
  s.best_metric = 1.25;
  auto j = s.to_json();
  EXPECT_EQ(j.size(), 20u);  // HF TrainerState's dataclass fields
  TrainerState back = TrainerState::from_json(j, "test");
  EXPECT_EQ(back.to_json(), j);
  EXPECT_THROW(TrainerState::from_json(nlohmann::json::object(), "x.json"), bertforge::Error);
}
