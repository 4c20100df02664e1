#include "bertforge/util/progress.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>

namespace bertforge {

namespace {
std::atomic<bool> g_enabled{true};
}

void Progress::set_enabled(bool enabled) { g_enabled = enabled; }

std::string format_duration(double s) {
  char buf[32];
  auto t = static_cast<long long>(s + 0.5);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", t / 3600, (t % 3600) / 60);
  else if (t >= 60)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", t / 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%llds", t);
  return buf;
}

Progress::Progress(std::string label, std::uint64_t total, std::string unit, double scale, double interval_s)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), scale_(scale),
      interval_s_(interval_s), start_(Clock::now()), last_(start_), tty_(::isatty(2)) {
  if (tty_) interval_s_ = 0.2;
}

void Progress::update(std::uint64_t done) {
  if (!g_enabled) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto now = Clock::now();
  if (std::chrono::duration<double>(now - last_).count() < interval_s_) return;
  last_ = now;
  print(done, false);
}

void Progress::finish() {
  if (!g_enabled) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_) return;
  finished_ = true;
  print(total_, true);
}

void Progress::print(std::uint64_t done, bool final) {
  double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  double rate = elapsed > 0 ? done * scale_ / elapsed : 0;
  char line[256];
  int n = std::snprintf(line, sizeof line, "%s: %.1f", label_.c_str(), done * scale_);
  if (total_) n += std::snprintf(line + n, sizeof line - n, "/%.1f", total_ * scale_);
  n += std::snprintf(line + n, sizeof line - n, " %s  %.2f %s/s", unit_.c_str(), rate, unit_.c_str());
  if (final)
    std::snprintf(line + n, sizeof line - n, "  done in %s", format_duration(elapsed).c_str());
  else if (total_ && done > 0 && done < total_)
    std::snprintf(line + n, sizeof line - n, "  ETA %s",
                  format_duration(elapsed * (total_ - done) / static_cast<double>(done)).c_str());
  if (tty_)
    std::fprintf(stderr, "\r\033[K%s%s", line, final ? "\n" : "");
  else
    std::fprintf(stderr, "%s\n", line);
  std::fflush(stderr);
}

}  // namespace bertforge
