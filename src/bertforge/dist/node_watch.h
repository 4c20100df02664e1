// How the launchers of a run of several nodes learn that it ended elsewhere, through the rendezvous store the
// launcher of node 0 hosts:
// - Node 0's launcher, once its ranks have ended, keeps the store up: after a success until every other node
//   has reported its ranks done (at most `grace`), after a failure kLinger, so that the ranks of the other
//   nodes can still read from it which rank failed (health.h). Then it ends, and the store with it.
// - The launchers of the other nodes watch the store from a thread. If it closes the connection while their
//   ranks still run, the run failed elsewhere (node 0 ended or was killed), and they stop their ranks: also
//   a frozen one, which cannot notice by itself. A store that only stops answering (a link cut) is left to
//   the ranks, which notice within their timeout; the watching thread may then block, and is left behind.
#pragma once
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <memory>

#include "bertforge/dist/launcher.h"

namespace bertforge::dist {

class NodeWatch {
 public:
  static constexpr std::chrono::milliseconds kLinger{3000};

  // Node 0: `hosted` is the store its launcher hosts. Other nodes: connects to it in the background.
  NodeWatch(const LaunchOptions& options, c10::intrusive_ptr<c10d::TCPStore> hosted);
  ~NodeWatch();
  NodeWatch(const NodeWatch&) = delete;
  NodeWatch& operator=(const NodeWatch&) = delete;

  // Whether node 0's store closed the connection (always false on node 0).
  bool store_closed() const;
  // Every rank of this node has ended, all with status 0 if `ok`: reports it, or (node 0) keeps the store up
  // as described above. Returns within `grace`.
  void finished(bool ok);

 private:
  struct State;
  LaunchOptions options_;
  c10::intrusive_ptr<c10d::TCPStore> hosted_;
  std::shared_ptr<State> state_;
};

}  // namespace bertforge::dist
