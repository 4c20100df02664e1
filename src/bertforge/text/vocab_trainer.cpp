#include "bertforge/text/vocab_trainer.h"

#include "bertforge/text/merge_state.h"
#include "bertforge/util/progress.h"

namespace bertforge::text {

std::vector<std::string> train_vocab(const WordCounts& counts, const TrainerOptions& options) {
  detail::MergeState state(counts, options);
  std::size_t start = state.vocab_size();
  Progress progress("merges", options.vocab_size > start ? options.vocab_size - start : 0, "tokens");
  if (options.algorithm == TrainAlgorithm::hf)
    detail::merge_by_frequency(state, options, progress);
  else
    detail::merge_by_likelihood(state, options, progress);
  progress.finish();
  return state.vocab();
}

}  // namespace bertforge::text
