#include "bertforge/dist/health.h"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "bertforge/dist/deadline.h"

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

struct Health::Beat {
  c10::intrusive_ptr<c10d::Store> store;  // the beat's own connection
  std::atomic<std::int64_t> progress{0};
  std::mutex mutex;
  std::condition_variable stop_cv;
  bool stop = false, stopped = false;
};

Health::Health(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size, std::string store_address,
               std::chrono::milliseconds interval)
    : beat_(std::make_shared<Beat>()),
      probe_(store->clone()),
      rank_(rank),
      size_(size),
      store_address_(std::move(store_address)),
      interval_(interval) {
  beat_->store = store->clone();
  std::thread([beat = beat_, rank, interval] {
    std::int64_t published = 0;
    std::unique_lock<std::mutex> lock(beat->mutex);
    while (!beat->stop) {
      lock.unlock();  // a beat may block on an unreachable store; the destructor must not wait behind it
      try {
        beat->store->add(alive_key(rank), 1);
        std::int64_t now = beat->progress.load();
        beat->store->add(progress_key(rank), now - published);
        published = now;
      } catch (const std::exception&) {
        // The store's host has gone or this node is cut off; diagnose() says which when a collective fails.
      }
      lock.lock();
      beat->stop_cv.wait_for(lock, interval, [&] { return beat->stop; });
    }
    beat->stopped = true;
    beat->stop_cv.notify_all();
  }).detach();
}

Health::~Health() {
  std::unique_lock<std::mutex> lock(beat_->mutex);
  beat_->stop = true;
  beat_->stop_cv.notify_all();
  beat_->stop_cv.wait_for(lock, 2 * interval_, [this] { return beat_->stopped; });
}

void Health::entered_collective() { ++beat_->progress; }

Health::Finding Health::diagnose() {
  struct Readings {
    std::vector<std::int64_t> alive0, alive1, progress;
  };
  auto readings = std::make_shared<Readings>();
  auto read = [probe = probe_, size = size_](auto key) {
    std::vector<std::int64_t> v(size);
    for (int r = 0; r < size; ++r) v[r] = probe->add(key(r), 0);
    return v;
  };
  bool answered = false;
  try {
    answered = within(kStoreAnswer, [readings, read] { readings->alive0 = read(alive_key); });
    if (answered) {
      std::this_thread::sleep_for(interval_ * 3);
      answered = within(kStoreAnswer, [readings, read] {
        readings->alive1 = read(alive_key);
        readings->progress = read(progress_key);
      });
    }
  } catch (const std::exception&) {
    return {"the rendezvous store at " + store_address_ + " closed the connection: its host (rank 0, or the " +
                "launcher of node 0 that hosts it) ended",
            true};
  }
  if (!answered)
    return {"the rendezvous store at " + store_address_ + " does not answer within " +
                std::to_string(kStoreAnswer.count() / 1000) + " s: this node lost its network, or the store's host " +
                "(node 0) did",
            true};
  std::vector<int> dead, behind;
  for (int r = 0; r < size_; ++r) {
    if (r == rank_) continue;
    if (readings->alive1[r] == readings->alive0[r]) dead.push_back(r);
    else if (readings->progress[r] < readings->progress[rank_]) behind.push_back(r);
  }
  if (!dead.empty()) return {rank_list(dead) + " stopped responding (died, frozen, or cut off from the network)", true};
  if (!behind.empty())
    return {rank_list(behind) + " never reached collective #" + std::to_string(readings->progress[rank_]) + " (hung)"};
  return {"no other rank is dead or behind by the store's account"};
}

}  // namespace bertforge::dist
