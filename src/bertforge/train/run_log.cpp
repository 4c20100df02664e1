#include "bertforge/train/run_log.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "bertforge/util/error.h"
#include "bertforge/util/progress.h"

namespace bertforge::train {

RunLog::RunLog(const std::string& output_dir, TrainerState& state, bool quiet, bool writes)
    : state_(state),
      jsonl_path_((std::filesystem::path(output_dir) / "metrics.jsonl").string()),
      tty_(::isatty(STDERR_FILENO)),
      quiet_(quiet),
      writes_(writes) {
  if (!writes_) return;
  jsonl_.open(jsonl_path_, std::ios::app);
  if (!jsonl_) fail_at(jsonl_path_, 0, "cannot write metrics");
}

void RunLog::log(nlohmann::json entry) {
  entry["step"] = state_.global_step;
  state_.log_history.push_back(entry);
  if (!writes_) return;
  jsonl_ << entry.dump() << "\n";
  jsonl_.flush();
  if (!jsonl_) fail_at(jsonl_path_, 0, "write failed (disk full?)");
  if (!entry.contains("loss")) message(entry.dump());  // evaluations and summaries; train losses are on the line
}

void RunLog::message(const std::string& line) {
  if (quiet_) return;
  if (line_open_) std::fputc('\n', stderr);
  line_open_ = false;
  std::fprintf(stderr, "%s\n", line.c_str());
}

void RunLog::tick(const StepStats& s, bool print) {
  if (first_step_ < 0) first_step_ = s.step - 1;
  window_seqs_ += s.sequences;
  window_tokens_ += s.tokens;
  window_wait_ += s.wait_s;
  ++window_steps_;
  if (quiet_ || !(print || tty_)) return;
  auto now = Clock::now();
  double window = std::chrono::duration<double>(now - window_start_).count();
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double per_step = elapsed / std::max<std::int64_t>(1, s.step - first_step_);
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "step %lld/%lld  loss %.4f  lr %.3g  %.1f seq/s  %.0f tok/s  input wait %.1f ms/step (%.0f%%)  ETA %s",
                static_cast<long long>(s.step), static_cast<long long>(s.total), s.loss, s.lr,
                window_seqs_ / std::max(window, 1e-9), window_tokens_ / std::max(window, 1e-9),
                1e3 * window_wait_ / window_steps_, 100 * window_wait_ / std::max(window, 1e-9),
                format_duration(per_step * static_cast<double>(s.total - s.step)).c_str());
  if (tty_) {
    std::fprintf(stderr, "\r%s\033[K%s", buf, print ? "\n" : "");  // logging steps stay in the scrollback
    line_open_ = !print;
  } else {
    std::fprintf(stderr, "%s\n", buf);
  }
  if (print) window_start_ = now, window_seqs_ = window_tokens_ = window_steps_ = 0, window_wait_ = 0;
}

}  // namespace bertforge::train
