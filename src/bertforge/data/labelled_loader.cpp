#include "bertforge/data/labelled_loader.h"

#include <algorithm>

#include "bertforge/util/ignore_index.h"

namespace bertforge::data {

LabelledSource::LabelledSource(std::shared_ptr<const LabelledExamples> examples, std::int32_t pad_id,
                               int pad_to_multiple_of)
    : examples_(std::move(examples)), pad_id_(pad_id), multiple_(pad_to_multiple_of) {}

Batch LabelledSource::make(const std::vector<std::uint64_t>& indices, const std::vector<std::uint64_t>&) const {
  const LabelledExamples& ex = *examples_;
  std::int64_t seq = 0;
  for (std::uint64_t i : indices) seq = std::max<std::int64_t>(seq, ex.length(i));
  if (multiple_ > 0) seq = (seq + multiple_ - 1) / multiple_ * multiple_;
  const auto rows = static_cast<std::int64_t>(indices.size());
  const bool tokens = ex.problem == ProblemType::token_classification;
  Batch b;
  b.input_ids = at::full({rows, seq}, pad_id_, at::kLong);
  b.token_type_ids = at::zeros({rows, seq}, at::kLong);
  b.attention_mask = at::zeros({rows, seq}, at::kLong);
  b.labels = tokens ? at::full({rows, seq}, kIgnoreIndex, at::kLong) : sequence_labels(indices);
  auto ids = b.input_ids.accessor<std::int64_t, 2>(), types = b.token_type_ids.accessor<std::int64_t, 2>();
  auto mask = b.attention_mask.accessor<std::int64_t, 2>();
  std::int64_t* labels = tokens ? b.labels.data_ptr<std::int64_t>() : nullptr;
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::uint64_t begin = ex.offsets[indices[r]], n = ex.length(indices[r]);
    for (std::uint64_t t = 0; t < n; ++t) {
      ids[r][t] = ex.input_ids[begin + t], types[r][t] = ex.token_type_ids[begin + t], mask[r][t] = 1;
      if (tokens) labels[r * seq + t] = static_cast<std::int64_t>(ex.labels[begin + t]);
    }
  }
  return b;
}

at::Tensor LabelledSource::sequence_labels(const std::vector<std::uint64_t>& indices) const {
  const LabelledExamples& ex = *examples_;
  const auto width = static_cast<std::int64_t>(ex.labels_per_row());
  at::Tensor labels = at::empty({static_cast<std::int64_t>(indices.size()), width}, at::kFloat);
  float* out = labels.data_ptr<float>();
  for (std::uint64_t i : indices) out = std::copy_n(ex.labels.begin() + i * width, width, out);
  switch (ex.problem) {
    case ProblemType::single_label_classification: return labels.squeeze(1).to(at::kLong);
    case ProblemType::regression: return labels.squeeze(1);
    default: return labels;
  }
}

}  // namespace bertforge::data
