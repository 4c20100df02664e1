// The `hf` algorithm: HF tokenizers' BpeTrainer with the "##" prefix, which is what its WordPieceTrainer
// runs. A max-heap of (pair count, pair) with lazy updates: a count that fell is noticed when its entry
// surfaces and the entry goes back with the current count; a pair that gained occurrences is pushed anew.
#include <queue>

#include "bertforge/text/merge_state.h"
#include "bertforge/util/progress.h"

namespace bertforge::text::detail {

namespace {

struct Entry {
  std::int64_t count;
  Pair pair;
};

// The heap's top is the largest count, then the smallest pair (left id, then right id), as in HF.
struct Below {
  bool operator()(const Entry& x, const Entry& y) const {
    return x.count != y.count ? x.count < y.count : x.pair > y.pair;
  }
};

}  // namespace

void merge_by_frequency(MergeState& state, const TrainerOptions& options, Progress& progress) {
  std::priority_queue<Entry, std::vector<Entry>, Below> heap;
  for (const auto& [pair, count] : state.pair_counts())
    if (count > 0) heap.push({count, pair});
  std::size_t start = state.vocab_size();
  auto min_count = static_cast<std::int64_t>(std::max<std::uint64_t>(options.min_frequency, 1));
  while (state.vocab_size() < options.vocab_size && !heap.empty()) {
    Entry top = heap.top();
    heap.pop();
    std::int64_t current = state.pair_count(top.pair);
    if (current != top.count) {
      if (current > 0) heap.push({current, top.pair});
      continue;
    }
    if (current < min_count) break;
    // HF leaves the merged pair's count as it was, so should the pair form again (a later merge producing
    // one of its halves) it surfaces at once and is merged again, without adding a token.
    for (Pair grown : state.merge(top.pair, state.add_merged(top.pair)))
      if (std::int64_t c = state.pair_count(grown); c > 0) heap.push({c, grown});
    progress.update(state.vocab_size() - start);
  }
}

}  // namespace bertforge::text::detail
