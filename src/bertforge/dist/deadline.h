// Deadlines for the blocking calls c10d leaves without one. TCPStore reads each reply with a plain recv(): a
// peer cut off by the network (no reset, no FIN) leaves that call waiting for as long as TCP keeps the
// connection, hours. Two tools bound such calls:
// - within(): runs a call on a thread of its own and waits at most `limit`; past it the call is left running,
//   detached, so it must own (by shared_ptr or value) everything it touches.
// - Watchdog: a last resort for a whole blocking section (a rendezvous, a collective and its diagnosis). If the
//   section is still open at its deadline, one line goes to stderr and the process ends with status 1 at once
//   (_exit: nothing is waited for). Checkpoints are never written inside such a section, so what is on disk
//   stays whole.
//   A stop signal (SIGINT, SIGTERM) normally waits for the step to end and its checkpoint; but a section
//   blocked on a peer that is gone would hold the signal until the deadline (--ddp_timeout, 30 min by
//   default). With a SignalPolicy, once the signal has come the watchdog asks the policy every
//   kSignalRecheck whether the open section can still end; if not, it prints the policy's line and ends the
//   process with status 128 + the signal. A section that can still end (every peer alive) is left to finish,
//   and the signal is then handled as usual.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace bertforge::dist {

// Whether `call` returned within `limit`; an exception it threw is rethrown here.
bool within(std::chrono::milliseconds limit, std::function<void()> call);

struct SignalPolicy {
  std::function<int()> signal;  // the stop signal received so far, 0 if none
  // "" while the open section can still end; else the line to stop with. May block (the watchdog's thread).
  std::function<std::string()> hopeless;
};

class Watchdog {
 public:
  static constexpr std::chrono::milliseconds kSignalRecheck{3000};

  Watchdog();
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Opens a section of at most `limit`; `message` is the line printed (after "bertforge: ") if it overruns.
  void arm(std::chrono::milliseconds limit, std::string message);
  void disarm();
  void on_signal(SignalPolicy policy);

 private:
  void watch();
  [[noreturn]] static void die(const std::string& line, int status);

  std::mutex mutex_;
  std::condition_variable changed_;
  bool armed_ = false, stop_ = false;
  std::uint64_t section_ = 0;  // counts arm() calls: tells whether a section outlived an unlocked check
  std::chrono::steady_clock::time_point deadline_, next_check_;
  SignalPolicy policy_;
  std::string message_;
  std::thread thread_;
};

// A section of a Watchdog, closed when the scope ends.
class WatchdogSection {
 public:
  WatchdogSection(Watchdog& dog, std::chrono::milliseconds limit, std::string message) : dog_(dog) {
    dog_.arm(limit, std::move(message));
  }
  ~WatchdogSection() { dog_.disarm(); }
  WatchdogSection(const WatchdogSection&) = delete;
  WatchdogSection& operator=(const WatchdogSection&) = delete;

 private:
  Watchdog& dog_;
};

}  // namespace bertforge::dist
