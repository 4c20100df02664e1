#include "bertforge/dist/health.h"

#include <vector>

namespace bertforge::dist {

namespace {
std::string alive_key(int r) { return "bertforge/alive/" + std::to_string(r); }
std::string progress_key(int r) { return "bertforge/progress/" + std::to_string(r); }

std::string rank_list(const std::vector<int>& ranks) {
  std::string s = ranks.size() == 1 ? "rank " : "ranks ";
  for (std::size_t i = 0; i < ranks.size(); ++i) s += (i ? ", " : "") + std::to_string(ranks[i]);
  return s;
}
}  // namespace

Health::Health(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size, std::string store_address,
               std::chrono::milliseconds interval)
    : store_(store->clone()), rank_(rank), size_(size), store_address_(std::move(store_address)), interval_(interval) {
  // A beat that cannot reach the store in a few intervals is reported by diagnose(), not waited for.
  store_->setTimeout(interval_ * 4);
  thread_ = std::thread([this] { beat(); });
}

Health::~Health() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  thread_.join();
}

void Health::beat() {
  std::int64_t published = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    try {
      store_->add(alive_key(rank_), 1);
      std::int64_t now = progress_.load();
      store_->add(progress_key(rank_), now - published);
      published = now;
    } catch (const std::exception&) {
      // The store's host has gone; diagnose() says so when a collective fails.
    }
    stop_cv_.wait_for(lock, interval_, [this] { return stop_; });
  }
}

std::string Health::diagnose() {
  auto read = [this](auto key) {
    std::vector<std::int64_t> v(size_);
    std::lock_guard<std::mutex> lock(mutex_);
    for (int r = 0; r < size_; ++r) v[r] = store_->add(key(r), 0);
    return v;
  };
  try {
    auto alive0 = read(alive_key);
    std::this_thread::sleep_for(interval_ * 3);
    auto alive1 = read(alive_key);
    auto progress = read(progress_key);
    std::vector<int> dead, behind;
    for (int r = 0; r < size_; ++r) {
      if (r == rank_) continue;
      if (alive1[r] == alive0[r]) dead.push_back(r);
      else if (progress[r] < progress[rank_]) behind.push_back(r);
    }
    if (!dead.empty()) return rank_list(dead) + " stopped responding (died or frozen)";
    if (!behind.empty())
      return rank_list(behind) + " never reached collective #" + std::to_string(progress[rank_]) + " (hung)";
    return "no other rank is dead or behind by the store's account";
  } catch (const std::exception&) {
    return "the rendezvous store at " + store_address_ +
           " is unreachable: its host died (rank 0, or the launcher that hosts the store)";
  }
}

}  // namespace bertforge::dist
