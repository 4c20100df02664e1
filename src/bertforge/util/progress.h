// Progress for long work on stderr: done/total, rate and ETA. On a terminal one line is redrawn in place;
// otherwise (CI, logs, pipes) a plain line is printed at most every `interval` seconds, so logs stay short.
//
//   Progress p("tokenize", total_bytes, "MB", 1e-6);   // unit label and scale for display
//   p.update(bytes_done); ... p.finish();
// total 0 means unknown: rate only, no ETA. Thread-safe: update() may be called from any thread.
#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace bertforge {

class Progress {
 public:
  Progress(std::string label, std::uint64_t total, std::string unit = "", double scale = 1.0,
           double interval_s = 10.0);
  void update(std::uint64_t done);  // absolute count so far
  void finish();                    // prints the final line once
  // Silences every Progress in the process (tests, --quiet).
  static void set_enabled(bool enabled);

 private:
  void print(std::uint64_t done, bool final);
  using Clock = std::chrono::steady_clock;
  std::string label_, unit_;
  std::uint64_t total_;
  double scale_, interval_s_;
  Clock::time_point start_, last_;
  bool tty_, finished_ = false;
  std::mutex mu_;
};

// "1h02m", "3m05s", "12s": the form progress lines use for durations.
std::string format_duration(double seconds);

}  // namespace bertforge
