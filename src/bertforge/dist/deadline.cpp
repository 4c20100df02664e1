#include "bertforge/dist/deadline.h"

#include <unistd.h>

#include <algorithm>
#include <exception>
#include <memory>

#include "bertforge/util/error.h"
#include "bertforge/util/messages.h"

namespace bertforge::dist {

bool within(std::chrono::milliseconds limit, std::function<void()> call) {
  struct Outcome {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    std::exception_ptr error;
  };
  auto outcome = std::make_shared<Outcome>();
  std::thread([outcome, call = std::move(call)] {
    std::exception_ptr error;
    try {
      call();
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(outcome->mutex);
    outcome->done = true;
    outcome->error = error;
    outcome->done_cv.notify_all();
  }).detach();
  std::unique_lock<std::mutex> lock(outcome->mutex);
  if (!outcome->done_cv.wait_for(lock, limit, [&] { return outcome->done; })) return false;
  if (outcome->error) std::rethrow_exception(outcome->error);
  return true;
}

Watchdog::Watchdog() : thread_([this] { watch(); }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void Watchdog::arm(std::chrono::milliseconds limit, std::string message) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    armed_ = true;
    ++section_;
    deadline_ = std::chrono::steady_clock::now() + limit;
    next_check_ = {};
    message_ = std::move(message);
  }
  changed_.notify_all();
}

void Watchdog::disarm() {
  std::lock_guard<std::mutex> lock(mutex_);
  armed_ = false;
}

void Watchdog::on_signal(SignalPolicy policy) {
  std::lock_guard<std::mutex> lock(mutex_);
  policy_ = std::move(policy);
}

void Watchdog::die(const std::string& line, int status) {
  std::string text = message_prefix() + ": " + escape_controls(line) + "\n";
  (void)!write(2, text.data(), text.size());
  _exit(status);
}

void Watchdog::watch() {
  // A signal cannot wake a condition variable, so an armed section with a policy is looked at this often.
  constexpr std::chrono::milliseconds kPoll{200};
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    if (!armed_) {
      changed_.wait(lock);
      continue;
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline_) die(message_, 1);
    const int signal = policy_.signal ? policy_.signal() : 0;
    if (signal != 0 && now >= next_check_) {
      const std::uint64_t section = section_;
      SignalPolicy policy = policy_;
      lock.unlock();
      std::string line = policy.hopeless();
      lock.lock();
      if (armed_ && section_ == section && !line.empty()) die(line, 128 + signal);
      next_check_ = std::chrono::steady_clock::now() + kSignalRecheck;
      continue;
    }
    changed_.wait_until(lock, policy_.signal ? std::min(deadline_, now + kPoll) : deadline_);
  }
}

}  // namespace bertforge::dist
