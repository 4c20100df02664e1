// Which rank stopped, told from the rendezvous store, so that a rank whose collective failed can name it.
// A thread of each rank, on a store connection of its own, counts "bertforge/alive/<rank>" up every
// `interval` and publishes "bertforge/progress/<rank>": how many collectives the rank has entered.
// diagnose() reads both twice, `3 * interval` apart: a rank whose alive count stood still is dead, frozen or
// cut off; a live rank whose progress is below this rank's is hung before the collective. A store that closes
// the connection lost its host (rank 0, or the launcher of node 0 that hosts it); one that does not answer
// within kStoreAnswer is cut off from this node (or this node from the network), and diagnose() says so
// rather than waiting.
//
// Nothing here blocks without a deadline: diagnose() returns within 2 kStoreAnswer + 3 intervals, and the
// destructor leaves a beat stuck on an unreachable store behind (the thread owns what it touches) instead of
// joining it.
#pragma once
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace bertforge::dist {

class Health {
 public:
  // How long diagnose() waits for each of its two readings of the store (the second comes 3 intervals later).
  static constexpr std::chrono::milliseconds kStoreAnswer{2000};

  Health(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size, std::string store_address,
         std::chrono::milliseconds interval = std::chrono::milliseconds(500));
  ~Health();
  Health(const Health&) = delete;
  Health& operator=(const Health&) = delete;

  void entered_collective();

  struct Finding {
    std::string line;  // which rank(s) failed and how it was told
    // A rank stopped responding or the store cannot be reached: a collective waiting on them cannot end well.
    // False when every rank is alive (some perhaps behind: still computing, or hung).
    bool peer_lost = false;
  };
  Finding diagnose();

 private:
  struct Beat;  // the beat thread's state, shared with it so that the thread may outlive this object

  std::shared_ptr<Beat> beat_;
  c10::intrusive_ptr<c10d::Store> probe_;  // diagnose()'s own connection: a stuck beat cannot block it
  int rank_, size_;
  std::string store_address_;
  std::chrono::milliseconds interval_;
};

}  // namespace bertforge::dist
