#include "bertforge/data/collator.h"

#include <algorithm>
#include <cmath>

#include "bertforge/util/error.h"
#include "bertforge/util/ignore_index.h"

namespace bertforge::data {

MlmCollator::MlmCollator(SpecialIds special, int vocab_size, SentenceTask task, CollatorOptions options,
                         std::uint64_t seed, std::vector<bool> continuation)
    : special_(special), vocab_size_(vocab_size), task_(task), o_(options), rng_(seed),
      continuation_(std::move(continuation)) {
  if (o_.whole_word_mask && static_cast<int>(continuation_.size()) != vocab_size)
    throw Error("whole-word masking needs the tokenizer's vocabulary (which ids are ## pieces)");
  if (o_.mask_replace_prob + o_.random_replace_prob > 1.0)
    throw Error("mask_replace_prob + random_replace_prob must not exceed 1");
}

void MlmCollator::select_tokens(const std::int32_t* ids, std::size_t n, std::uint8_t* selected) {
  for (std::size_t k = 0; k < n; ++k) selected[k] = !special_.contains(ids[k]) && rng_.bernoulli(o_.mlm_probability);
}

void MlmCollator::select_words(const std::int32_t* ids, std::size_t n, std::uint8_t* selected) {
  std::vector<std::pair<std::size_t, std::size_t>> words;  // [begin, end) token positions
  for (std::size_t k = 0; k < n; ++k) {
    if (special_.contains(ids[k])) continue;
    if (!words.empty() && words.back().second == k && continuation_[ids[k]]) ++words.back().second;
    else words.emplace_back(k, k + 1);
  }
  for (std::size_t i = words.size(); i > 1; --i) std::swap(words[i - 1], words[rng_.below(i)]);  // Fisher-Yates
  // Python's round: halves go to the even neighbour (round(4.5) == 4), which nearbyint does by default.
  const std::size_t budget = std::max<std::size_t>(1, static_cast<std::size_t>(std::nearbyint(n * o_.mlm_probability)));
  std::size_t taken = 0;
  std::fill(selected, selected + n, 0);
  for (const auto& [b, e] : words) {
    if (taken >= budget) break;
    if (taken + (e - b) > budget) continue;
    std::fill(selected + b, selected + e, 1);
    taken += e - b;
  }
}

Batch MlmCollator::collate(const Examples& ex, const std::vector<std::uint64_t>& row_seeds) {
  const std::int64_t rows = ex.size();
  std::int64_t width = 0;
  for (std::int64_t i = 0; i < rows; ++i) width = std::max<std::int64_t>(width, ex.ends[i] - ex.begin_of(i));
  if (o_.pad_to_multiple_of > 0) width = (width + o_.pad_to_multiple_of - 1) / o_.pad_to_multiple_of * o_.pad_to_multiple_of;
  auto opts = at::TensorOptions().dtype(at::kLong);
  Batch b;
  b.input_ids = at::full({rows, width}, special_.pad, opts);
  b.token_type_ids = at::zeros({rows, width}, opts);
  b.attention_mask = at::zeros({rows, width}, opts);
  b.labels = at::full({rows, width}, kIgnoreIndex, opts);
  auto* input = b.input_ids.data_ptr<std::int64_t>();
  auto* types = b.token_type_ids.data_ptr<std::int64_t>();
  auto* mask = b.attention_mask.data_ptr<std::int64_t>();
  auto* labels = b.labels.data_ptr<std::int64_t>();
  std::vector<std::uint8_t> selected;
  for (std::int64_t i = 0; i < rows; ++i) {
    const std::int32_t* ids = ex.ids.data() + ex.begin_of(i);
    const std::size_t n = ex.ends[i] - ex.begin_of(i), row = i * width;
    selected.assign(n, 0);
    if (!row_seeds.empty()) rng_ = Rng(row_seeds.at(i));
    if (!o_.mlm) std::fill(selected.begin(), selected.end(), 1);
    else if (o_.whole_word_mask) select_words(ids, n, selected.data());
    else select_tokens(ids, n, selected.data());
    for (std::size_t k = 0; k < n; ++k) {
      input[row + k] = ids[k];
      types[row + k] = k >= ex.type0[i];
      mask[row + k] = 1;
      if (!selected[k]) continue;
      labels[row + k] = ids[k];
      if (!o_.mlm) continue;
      const double u = rng_.uniform();
      if (u < o_.mask_replace_prob) input[row + k] = special_.mask;
      else if (u < o_.mask_replace_prob + o_.random_replace_prob) input[row + k] = rng_.below(vocab_size_);
    }
  }
  if (task_ != SentenceTask::none) {
    b.sentence_label = at::empty({rows}, opts);
    std::copy(ex.labels.begin(), ex.labels.end(), b.sentence_label.data_ptr<std::int64_t>());
    b.sentence_label_name = label_column(task_);
  }
  return b;
}

}  // namespace bertforge::data
