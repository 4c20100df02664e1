// The `wordpiece` algorithm: merge the pair with the largest likelihood gain,
// score = count(ab) / (count(a) · count(b)), counts taken over the corpus as currently segmented.
// A max-heap of (score, pair) with lazy updates. A merge lowers count(a) and count(b), which raises the
// score of every other pair holding a or b, so those are pushed again with their new scores (`partners`
// finds them); every other change only lowers a score and is caught when the stale entry surfaces.
#include <algorithm>
#include <queue>
#include <unordered_set>

#include "bertforge/text/merge_state.h"
#include "bertforge/util/progress.h"

namespace bertforge::text::detail {

namespace {

struct Entry {
  double score;
  Pair pair;
};

// Largest score, then the smallest pair (left id, then right id).
struct Below {
  bool operator()(const Entry& x, const Entry& y) const {
    return x.score != y.score ? x.score < y.score : x.pair > y.pair;
  }
};

class LikelihoodQueue {
 public:
  explicit LikelihoodQueue(const MergeState& state) : state_(state) {
    for (const auto& [pair, count] : state.pair_counts()) add(pair);
  }

  // Score from the current counts; 0 for a pair no longer present.
  double score(Pair p) const {
    std::int64_t n = state_.pair_count(p);
    if (n <= 0) return 0;
    return static_cast<double>(n) / (static_cast<double>(state_.token_count(left_of(p))) *
                                     static_cast<double>(state_.token_count(right_of(p))));
  }

  // Pushes p with its current score, indexing it under both its tokens the first time.
  void add(Pair p) {
    double s = score(p);
    if (s <= 0) return;
    if (indexed_.insert(p).second) {
      partners(left_of(p)).push_back(p);
      if (right_of(p) != left_of(p)) partners(right_of(p)).push_back(p);
    }
    heap_.push({s, p});
  }

  // Re-pushes every live pair holding `token`, dropping dead ones from its index.
  void refresh(std::uint32_t token) {
    auto& list = partners(token);
    auto live = std::remove_if(list.begin(), list.end(), [&](Pair p) {
      if (state_.pair_count(p) > 0) return false;
      indexed_.erase(p);
      return true;
    });
    list.erase(live, list.end());
    for (Pair p : list) heap_.push({score(p), p});
    // Stale entries pile up; rebuild once they outnumber live pairs several times over.
    if (heap_.size() > 4 * state_.pair_counts().size() + (1u << 20)) rebuild();
  }

  // The best pair whose entry is current; false when none is left.
  bool pop(Pair& best) {
    while (!heap_.empty()) {
      Entry top = heap_.top();
      heap_.pop();
      double now = score(top.pair);
      if (now == top.score) {
        best = top.pair;
        return true;
      }
      if (now > 0) heap_.push({now, top.pair});
    }
    return false;
  }

 private:
  std::vector<Pair>& partners(std::uint32_t token) {
    if (token >= partners_.size()) partners_.resize(token + 1);
    return partners_[token];
  }
  void rebuild() {
    std::vector<Entry> live;
    for (const auto& [pair, count] : state_.pair_counts())
      if (count > 0) live.push_back({score(pair), pair});
    heap_ = decltype(heap_)(Below(), std::move(live));
  }

  const MergeState& state_;
  std::priority_queue<Entry, std::vector<Entry>, Below> heap_;
  std::vector<std::vector<Pair>> partners_;
  std::unordered_set<Pair> indexed_;
};

}  // namespace

void merge_by_likelihood(MergeState& state, const TrainerOptions& options, Progress& progress) {
  LikelihoodQueue queue(state);
  std::size_t start = state.vocab_size();
  auto min_count = static_cast<std::int64_t>(std::max<std::uint64_t>(options.min_frequency, 1));
  Pair best;
  while (state.vocab_size() < options.vocab_size && queue.pop(best)) {
    if (state.pair_count(best) < min_count) continue;  // may return if it gains occurrences
    std::vector<Pair> grown = state.merge(best, state.add_merged(best));
    state.forget_pair(best);  // every occurrence is merged
    queue.refresh(left_of(best));
    queue.refresh(right_of(best));
    for (Pair p : grown) queue.add(p);
    progress.update(state.vocab_size() - start);
  }
}

}  // namespace bertforge::text::detail
