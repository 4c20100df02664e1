#include "bertforge/train/run_log.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>

#include "bertforge/util/error.h"
#include "bertforge/util/json_file.h"
#include "bertforge/util/progress.h"

namespace bertforge::train {

std::string tensorboard_logging_dir(const std::string& output_dir) {
  if (const char* env = std::getenv("TENSORBOARD_LOGGING_DIR"); env && *env) return env;
  char stamp[64], host[256] = "localhost";
  std::time_t t = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%b%d_%H-%M-%S", std::localtime(&t));
  ::gethostname(host, sizeof host - 1);
  return (std::filesystem::path(output_dir) / "runs" / (std::string(stamp) + "_" + host)).string();
}

RunLog::RunLog(const std::string& output_dir, TrainerState& state, bool quiet, bool writes,
               const std::string& tensorboard_dir)
    : state_(state),
      jsonl_path_((std::filesystem::path(output_dir) / "metrics.jsonl").string()),
      tty_(::isatty(STDERR_FILENO)),
      quiet_(quiet),
      writes_(writes) {
  if (!writes_) return;
  jsonl_.open(jsonl_path_, std::ios::app);
  if (!jsonl_) fail_at(jsonl_path_, 0, "cannot write metrics");
  if (!tensorboard_dir.empty()) tensorboard_ = std::make_unique<EventFileWriter>(tensorboard_dir);
}

void RunLog::log(nlohmann::json entry) {
  entry["step"] = state_.global_step;
  state_.log_history.push_back(entry);
  if (!writes_) return;
  jsonl_ << dump_json(entry) << "\n";
  jsonl_.flush();
  if (!jsonl_) fail_at(jsonl_path_, 0, "write failed (disk full?)");
  if (tensorboard_) {
    for (const auto& [key, value] : entry.items()) {
      if (!value.is_number() || key == "step") continue;
      std::string tag = key.rfind("eval_", 0) == 0 ? "eval/" + key.substr(5) : "train/" + key;
      tensorboard_->add_scalar(tag, value.get<double>(), state_.global_step);
    }
    tensorboard_->flush();
  }
  if (!entry.contains("loss")) message(dump_json(entry));  // evaluations and summaries; train losses are on the line
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
  auto now = Clock::now();
  double window = std::max(std::chrono::duration<double>(now - window_start_).count(), 1e-9);
  double seqs_per_s = window_seqs_ / window, tokens_per_s = window_tokens_ / window;
  if (print && tensorboard_) {
    tensorboard_->add_scalar("train/samples_per_second", seqs_per_s, state_.global_step);
    tensorboard_->add_scalar("train/tokens_per_second", tokens_per_s, state_.global_step);
  }
  if (!quiet_ && (print || tty_)) {
    double elapsed = std::chrono::duration<double>(now - start_).count();
    double per_step = elapsed / std::max<std::int64_t>(1, s.step - first_step_);
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "step %lld/%lld  loss %.4f  lr %.3g  %.1f seq/s  %.0f tok/s  input wait %.1f ms/step (%.0f%%)  ETA %s",
                  static_cast<long long>(s.step), static_cast<long long>(s.total), s.loss, s.lr, seqs_per_s,
                  tokens_per_s, 1e3 * window_wait_ / window_steps_, 100 * window_wait_ / window,
                  format_duration(per_step * static_cast<double>(s.total - s.step)).c_str());
    if (tty_) {
      std::fprintf(stderr, "\r%s\033[K%s", buf, print ? "\n" : "");  // logging steps stay in the scrollback
      line_open_ = !print;
    } else {
      std::fprintf(stderr, "%s\n", buf);
    }
  }
  if (print) window_start_ = now, window_seqs_ = window_tokens_ = window_steps_ = 0, window_wait_ = 0;
}

}  // namespace bertforge::train
