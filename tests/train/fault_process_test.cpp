// Faults around `bertforge pretrain` and `bertforge export` as processes: kill -9 at random instants of a
// run (start-up, steps, saving; several seeds) and resume until done gives the losses of an uninterrupted
// run; a full disk (RLIMIT_FSIZE in the child) while saving a checkpoint or exporting ends in a one-line
// error naming the file, with the earlier checkpoints whole and usable, and nothing half-written left behind.
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

namespace {

// The last line a child printed (its error, when it failed).
std::string last_line(const std::string& log) {
  std::string text = read_file(log);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text.substr(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
}

std::vector<std::string> resume_if_any(const RunDir& r, const std::string& out, std::vector<std::string> opts) {
  if (last_checkpoint((r.root / out).string())) opts.insert(opts.end(), {"--resume_from_checkpoint", "latest"});
  return opts;
}

// Kills the run in `out` as soon as it has published a checkpoint (or it ends by itself).
void kill_after_first_checkpoint(const RunDir& r, const std::string& out, const std::vector<std::string>& opts) {
  Process p = start_pretrain(r, out, opts);
  for (int i = 0; i < 3000 && !last_checkpoint((r.root / out).string()); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  kill(p.pid, SIGKILL);
  wait_exit(p);
}

// A vocab.txt for the tiny data's 64 ids ([PAD] [UNK] [CLS] [SEP] [MASK] first, as tiny_special()).
std::string write_tiny_vocab(const fs::path& path) {
  std::ofstream v(path);
  v << "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
  for (int i = 5; i < 64; ++i) v << "t" << i << "\n";
  return path.string();
}

}  // namespace

TEST(FaultProcess, KillNineAtRandomInstantsForSeveralSeedsThenResumeMatchesUninterrupted) {
  RunDir r = make_run("fault_kill9");
  const std::vector<std::string> opts{"--max_steps", "30", "--save_steps", "3", "--save_total_limit", "3"};
  const auto began = std::chrono::steady_clock::now();
  ASSERT_EQ(wait_exit(start_pretrain(r, "straight", opts)), 0);
  // Kill instants spread over the time an uninterrupted run takes here, whatever the machine or build.
  const int run_ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began).count());
  const std::vector<double> want = losses(r.root / "straight" / "trainer_state.json");
  ASSERT_EQ(want.size(), 30u);
  for (unsigned seed : {11u, 12u, 13u}) {
    const std::string out = "killed-" + std::to_string(seed);
    std::mt19937 gen(seed);
    for (int round = 0; round < 4; ++round) {
      Process p = start_pretrain(r, out, resume_if_any(r, out, opts));
      std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<>(0, run_ms)(gen)));
      kill(p.pid, SIGKILL);
      wait_exit(p);
      expect_whole_checkpoints(r.root / out);
    }
    ASSERT_EQ(wait_exit(start_pretrain(r, out, resume_if_any(r, out, opts))), 0) << read_file(r.root / (out + ".log"));
    EXPECT_EQ(losses(r.root / out / "trainer_state.json"), want) << "seed " << seed;
  }
  fs::remove_all(r.root);
}

TEST(FaultProcess, FullDiskWhileSavingACheckpointKeepsTheEarlierOnes) {
  RunDir r = make_run("fault_full_checkpoint");
  const std::vector<std::string> opts{"--max_steps", "60", "--save_steps", "20"};
  ASSERT_EQ(wait_exit(start_pretrain(r, "straight", opts)), 0);
  const std::vector<double> want = losses(r.root / "straight" / "trainer_state.json");

  kill_after_first_checkpoint(r, "out", opts);
  const auto before = list_checkpoints((r.root / "out").string());
  ASSERT_FALSE(before.empty());
  ASSERT_LT(before.size(), 3u) << "the run finished before it could be stopped";
  // 8 KB per file: the logs and JSON files fit, the next checkpoint's model.safetensors does not.
  Process full = start_pretrain(r, "out", resume_if_any(r, "out", opts), 8 << 10);
  EXPECT_EQ(wait_exit(full), 1);
  const std::string line = last_line(full.log);
  EXPECT_NE(line.find((r.root / "out").string()), std::string::npos) << line;
  EXPECT_NE(line.find("checkpoint-"), std::string::npos) << line;
  EXPECT_EQ(list_checkpoints((r.root / "out").string()), before);  // nothing earlier lost, nothing partial added
  for (const auto& e : fs::directory_iterator(r.root / "out"))
    EXPECT_NE(e.path().filename().string().rfind("tmp-", 0), 0u) << e.path() << " left behind";
  expect_whole_checkpoints(r.root / "out");

  ASSERT_EQ(wait_exit(start_pretrain(r, "out", resume_if_any(r, "out", opts))), 0) << read_file(r.root / "out.log");
  EXPECT_EQ(losses(r.root / "out" / "trainer_state.json"), want);
  fs::remove_all(r.root);
}

TEST(FaultProcess, FullDiskWhileExportingLeavesNoHalfModelAndARetryWorks) {
  RunDir r = make_run("fault_full_export");
  ASSERT_EQ(wait_exit(start_pretrain(r, "run", {"--max_steps", "2", "--save_steps", "2"})), 0);
  const std::string checkpoint = (r.root / "run" / "checkpoint-2").string(),
                    vocab = write_tiny_vocab(r.root / "vocab.txt");
  const fs::path out = r.root / "exported";
  const std::vector<std::string> argv{bertforge_bin(), "export", "--model",   checkpoint,
                                      "--tokenizer",   vocab,    out.string()};
  Process full = start(argv, {}, (r.root / "export-full.log").string(), 8 << 10);
  EXPECT_EQ(wait_exit(full), 1);
  const std::string line = last_line(full.log);
  EXPECT_NE(line.find(out.string()), std::string::npos) << line;
  EXPECT_FALSE(fs::exists(out / "model.safetensors"));
  expect_whole_checkpoints(r.root / "run");  // the source is untouched

  Process again = start(argv, {}, (r.root / "export.log").string());
  ASSERT_EQ(wait_exit(again), 0) << read_file(again.log);
  EXPECT_TRUE(fs::exists(out / "model.safetensors"));
  EXPECT_TRUE(fs::exists(out / "config.json"));
  fs::remove_all(r.root);
}
