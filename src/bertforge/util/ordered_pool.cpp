#include "bertforge/util/ordered_pool.h"

#include <algorithm>
#include <utility>

namespace bertforge {

OrderedPool::OrderedPool(int threads, int window) : window_(static_cast<std::uint64_t>(std::max(1, window))) {
  for (int t = 0; t < threads && threads > 1; ++t) workers_.emplace_back([this] { work(); });
}

OrderedPool::~OrderedPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    todo_.clear();
  }
  cv_.notify_all();
  for (auto& w : workers_) w.join();
}

void OrderedPool::submit(std::function<void()> job, std::function<void()> then) {
  if (workers_.empty()) {
    job();
    return then();
  }
  std::unique_lock<std::mutex> lock(mu_);
  entries_[submitted_] = Entry{std::move(job), std::move(then)};
  todo_.push_back(submitted_++);
  cv_.notify_all();
  drain(lock, window_);
}

void OrderedPool::finish() {
  if (workers_.empty()) return;
  std::unique_lock<std::mutex> lock(mu_);
  drain(lock, 1);
}

void OrderedPool::drain(std::unique_lock<std::mutex>& lock, std::uint64_t limit) {
  while (submitted_ - handed_on_ >= limit) {
    cv_.wait(lock, [&] { return error_ || entries_[handed_on_].done; });
    if (error_) std::rethrow_exception(error_);
    std::function<void()> then = std::move(entries_[handed_on_].then);
    entries_.erase(handed_on_++);
    lock.unlock();
    then();
    lock.lock();
  }
}

void OrderedPool::work() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !todo_.empty(); });
    if (stopping_) return;
    const std::uint64_t seq = todo_.front();
    todo_.pop_front();
    std::function<void()> job = std::move(entries_[seq].job);
    lock.unlock();
    std::exception_ptr error;
    try {
      job();
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (error && !error_) error_ = error;
    entries_[seq].done = true;
    cv_.notify_all();
  }
}

}  // namespace bertforge
