#include "bertforge/dist/deadline.h"

#include <unistd.h>

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
    deadline_ = std::chrono::steady_clock::now() + limit;
    message_ = std::move(message);
  }
  changed_.notify_all();
}

void Watchdog::disarm() {
  std::lock_guard<std::mutex> lock(mutex_);
  armed_ = false;
}

void Watchdog::watch() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    if (!armed_) {
      changed_.wait(lock);
      continue;
    }
    if (std::chrono::steady_clock::now() < deadline_) {
      changed_.wait_until(lock, deadline_);
      continue;
    }
    std::string line = message_prefix() + ": " + escape_controls(message_) + "\n";
    (void)!write(2, line.data(), line.size());
    _exit(1);
  }
}

}  // namespace bertforge::dist
