// Worker threads whose results come back in the order the work was given, with bounded memory: the one pool
// behind tokenize's line chunks (text/parallel_lines.h) and prepare's document chunks (data/prepare.h).
//
//   OrderedPool pool(threads, /*window=*/2 * threads);
//   for (...) pool.submit([=] { result = work(input); }, [=] { write(result); });
//   pool.finish();
//
// submit() queues `job` for a worker; `then` runs later on the calling thread, after its job, in submission
// order. At most `window` jobs are in flight (submitted, their `then` not yet run): submit() waits for the
// oldest to finish and runs its `then` before it returns, so the caller reads ahead no further. The first
// exception of a job is rethrown by submit() or finish(); one of a `then` leaves through the call that ran
// it. Destroyed early (an error), the pool drops the queued jobs and joins its workers after their current one.
// With threads <= 1 there are no workers: submit() runs the job and its `then` in the caller.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace bertforge {

class OrderedPool {
 public:
  OrderedPool(int threads, int window);
  ~OrderedPool();
  OrderedPool(const OrderedPool&) = delete;
  OrderedPool& operator=(const OrderedPool&) = delete;

  void submit(std::function<void()> job, std::function<void()> then);
  // Waits for every job and runs the remaining `then`s, in order.
  void finish();

 private:
  struct Entry {
    std::function<void()> job, then;
    bool done = false;
  };
  void work();
  // Runs finished entries' `then` in order until fewer than `limit` jobs are in flight.
  void drain(std::unique_lock<std::mutex>& lock, std::uint64_t limit);

  const std::uint64_t window_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::uint64_t> todo_;
  std::map<std::uint64_t, Entry> entries_;  // by sequence number, until their `then` has run
  std::uint64_t submitted_ = 0, handed_on_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
  std::vector<std::thread> workers_;
};

}  // namespace bertforge
