// What a training run reports, and where:
//  - log(entry): a metrics dict as HF logs it ({"loss", "grad_norm", "learning_rate", "epoch"} or
//    {"eval_loss", ...}); "step" is added, the dict is appended to TrainerState.log_history and written as one
//    line of output_dir/metrics.jsonl (flushed, so a killed run keeps what it logged), and printed.
//  - tick(...): per-step throughput for the progress line: step/total, loss, lr, seq/s, tokens/s, the time
//    the step waited for input (ms/step and share of wall time) and ETA. On a terminal the line is redrawn
//    every step; otherwise (CI, logs) a plain line is printed at each logging step only.
//  - TensorBoard (report_to tensorboard): every number log() gets goes to an event file as well, named as HF's
//    TensorBoardCallback names it (rewrite_logs: eval_x -> eval/x, anything else -> train/x) at the global
//    step, plus each logging window's throughput as train/samples_per_second and train/tokens_per_second.
//    Strings (HF writes them as text summaries) are left out.
#pragma once
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>

#include "bertforge/train/trainer_state.h"
#include "bertforge/util/event_file.h"

namespace bertforge::train {

struct StepStats {
  std::int64_t step = 0, total = 0;   // optimizer steps done / planned
  double loss = 0, lr = 0;
  std::int64_t sequences = 0, tokens = 0;  // in this step (all micro-batches)
  double wait_s = 0;                  // time this step spent waiting for input
};

class RunLog {
 public:
  // `writes` false (ranks other than 0 of a distributed run): log_history is kept, metrics.jsonl is not written.
  // A non-empty `tensorboard_dir` (used only when `writes`) gets an event file.
  RunLog(const std::string& output_dir, TrainerState& state, bool quiet = false, bool writes = true,
         const std::string& tensorboard_dir = "");

  void log(nlohmann::json entry);
  // Counts a finished step; prints the progress line when `print` (a logging step) or on a terminal.
  void tick(const StepStats& s, bool print);
  void message(const std::string& line);  // a line of its own (ends a redrawn progress line first)

 private:
  using Clock = std::chrono::steady_clock;
  TrainerState& state_;
  std::ofstream jsonl_;
  std::string jsonl_path_;
  std::unique_ptr<EventFileWriter> tensorboard_;
  bool tty_, quiet_, writes_, line_open_ = false;
  Clock::time_point start_ = Clock::now(), window_start_ = Clock::now();
  std::int64_t first_step_ = -1, window_seqs_ = 0, window_tokens_ = 0, window_steps_ = 0;
  double window_wait_ = 0;
};

// HF's TensorBoard folder: $TENSORBOARD_LOGGING_DIR when set, else output_dir/runs/<Mon DD_HH-MM-SS>_<host>
// (transformers' default_logdir, local time).
std::string tensorboard_logging_dir(const std::string& output_dir);

}  // namespace bertforge::train
