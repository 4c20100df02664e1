// Which rank stopped, told from the rendezvous store, so that a rank whose collective failed can name it.
// A thread of each rank, on a store connection of its own, counts "bertforge/alive/<rank>" up every
// `interval` and publishes "bertforge/progress/<rank>": how many collectives the rank has entered.
// diagnose() reads both twice, `3 * interval` apart: a rank whose alive count stood still is dead or frozen;
// a live rank whose progress is below this rank's is hung before the collective. If the store itself is
// gone, its host (rank 0, or the launcher that hosts it) is the one that died.
#pragma once
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace bertforge::dist {

class Health {
 public:
  Health(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size, std::string store_address,
         std::chrono::milliseconds interval = std::chrono::milliseconds(500));
  ~Health();
  Health(const Health&) = delete;
  Health& operator=(const Health&) = delete;

  void entered_collective() { ++progress_; }
  // One line: which rank(s) failed and how it was told.
  std::string diagnose();

 private:
  void beat();

  c10::intrusive_ptr<c10d::Store> store_;  // this thread's own connection
  int rank_, size_;
  std::string store_address_;
  std::chrono::milliseconds interval_;
  std::atomic<std::int64_t> progress_{0};
  std::mutex mutex_;  // guards store_ between the beat thread and diagnose()
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace bertforge::dist
