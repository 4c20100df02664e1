// `bertforge pretrain` (and the other commands) as a child process on the tiny data of tiny_data.h, for the
// process tests: a run folder, the command line, the logged losses and the check that every checkpoint is
// whole. Children run through common/process.h (output in a log file, a deadline, an optional file-size
// limit that stands in for a full disk).
#pragma once
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "bertforge/train/checkpoint.h"
#include "bertforge/train/trainer_state.h"
#include "common/paths.h"
#include "common/process.h"
#include "train/tiny_data.h"

namespace bertforge::testing {

struct RunDir {
  std::filesystem::path root;
  std::string data, config;
};

inline RunDir make_run(const std::string& name) {
  RunDir r{std::filesystem::temp_directory_path() / ("bf_process_" + name), "", ""};
  std::filesystem::remove_all(r.root);
  std::filesystem::create_directories(r.root);
  r.data = write_tiny_data(r.root / "data", 40);
  r.config = write_tiny_config(r.root / "config.json");
  return r;
}

// The pretrain command line of run `r` into r.root/out, plus `extra` options.
inline std::vector<std::string> pretrain_argv(const RunDir& r, const std::string& out,
                                              const std::vector<std::string>& extra) {
  std::vector<std::string> args{bertforge_bin(),
                                "pretrain",
                                "--threads",
                                "1",
                                "--quiet",
                                "--device",
                                "cpu",
                                "--model",
                                r.config,
                                "--train_data",
                                r.data,
                                "--output_dir",
                                (r.root / out).string(),
                                "--per_device_train_batch_size",
                                "4",
                                "--logging_steps",
                                "1",
                                "--learning_rate",
                                "1e-3"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

inline Process start_pretrain(const RunDir& r, const std::string& out, const std::vector<std::string>& extra,
                              std::uint64_t max_file_bytes = 0) {
  return start(pretrain_argv(r, out, extra), {}, (r.root / (out + ".log")).string(), max_file_bytes);
}

// The exit status (128 + N for signal N); a child past 10 minutes is killed and fails the test.
inline int wait_exit(const Process& p) {
  auto status = wait_for(p, std::chrono::minutes(10));
  EXPECT_TRUE(status) << p.log << " ran past its deadline";
  if (!status) return -1;
  return WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
}

inline std::vector<double> losses(const std::filesystem::path& state) {
  std::vector<double> out;
  for (const auto& e : train::TrainerState::load(state.string()).log_history)
    if (e.contains("loss")) out.push_back(e["loss"].get<double>());
  return out;
}

inline void expect_whole_checkpoints(const std::filesystem::path& out) {
  for (const auto& c : train::list_checkpoints(out.string())) {
    for (const char* f : {"config.json", "model.safetensors", "optimizer_state.pt", "rng_state.pt",
                          "bertforge_state.json", "training_args.json", "trainer_state.json"})
      ASSERT_TRUE(std::filesystem::exists(std::filesystem::path(c) / f)) << c << " lacks " << f;
    auto step = std::stoll(std::filesystem::path(c).filename().string().substr(11));
    EXPECT_EQ(train::TrainerState::load(c + "/trainer_state.json").global_step, step);
  }
}

}  // namespace bertforge::testing
