#include "bertforge/dist/node_watch.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "bertforge/dist/deadline.h"

namespace bertforge::dist {

namespace {
const char kDone[] = "bertforge/launch/done";
// How often the store is asked, and how long a node may wait for node 0's launcher to host it: a node may be
// started long before node 0, as its ranks may (their rendezvous waits --ddp_timeout, 30 min by default).
constexpr std::chrono::milliseconds kPoll{500};
constexpr std::chrono::minutes kConnectWait{30};
}  // namespace

struct NodeWatch::State {
  std::atomic<bool> closed{false};
  std::mutex mutex;
  std::condition_variable stop_cv;
  bool stop = false;
  c10::intrusive_ptr<c10d::TCPStore> store;  // once connected
};

NodeWatch::NodeWatch(const LaunchOptions& options, c10::intrusive_ptr<c10d::TCPStore> hosted)
    : options_(options), hosted_(std::move(hosted)), state_(std::make_shared<State>()) {
  if (hosted_ || options_.nnodes == 1) return;
  std::thread([state = state_, addr = options_.master_addr, port = options_.master_port] {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(port);
    so.timeout = kConnectWait;
    c10::intrusive_ptr<c10d::TCPStore> store;
    try {
      store = c10::make_intrusive<c10d::TCPStore>(addr, so);
    } catch (const std::exception&) {
      return;  // never hosted: the ranks' own rendezvous fails and says so
    }
    std::unique_lock<std::mutex> lock(state->mutex);
    state->store = store;
    while (!state->stop_cv.wait_for(lock, kPoll, [&] { return state->stop; })) {
      lock.unlock();
      try {
        store->add(kDone, 0);
      } catch (const std::exception&) {
        state->closed = true;
        return;
      }
      lock.lock();
    }
  }).detach();
}

NodeWatch::~NodeWatch() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->stop = true;
  state_->stop_cv.notify_all();
}

bool NodeWatch::store_closed() const { return state_->closed; }

void NodeWatch::finished(bool ok) {
  if (options_.nnodes == 1) return;
  if (!hosted_) {
    c10::intrusive_ptr<c10d::TCPStore> store;
    {
      std::lock_guard<std::mutex> lock(state_->mutex);
      store = state_->store;
    }
    if (!ok || !store || state_->closed) return;
    try {
      (void)within(options_.grace, [store] { store->add(kDone, 1); });
    } catch (const std::exception&) {
      // Node 0's launcher has gone already: nobody waits for the report.
    }
    return;
  }
  if (!ok) {
    std::this_thread::sleep_for(kLinger);
    return;
  }
  auto deadline = std::chrono::steady_clock::now() + options_.grace;
  while (hosted_->add(kDone, 0) < options_.nnodes - 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(kPoll / 5);
}

}  // namespace bertforge::dist
