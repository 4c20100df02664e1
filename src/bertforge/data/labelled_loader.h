// Fine-tuning examples as a Loader's source: HF's DataCollatorWithPadding (sequence tasks) and
// DataCollatorForTokenClassification (token tasks) on LabelledExamples.
//
//   auto loader = Loader(std::make_shared<LabelledSource>(examples, tokenizer.pad_id(), 0), options);
//
// Each batch pads to its longest row (rounded up to pad_to_multiple_of): input_ids with pad_id,
// token_type_ids 0, attention_mask 1 at tokens and 0 at padding, all int64 [batch, seq]. labels, under HF's
// field name: int64 [batch] (single-label), float [batch] (regression), float [batch, num_labels]
// (multi-label), int64 [batch, seq] padded with kIgnoreIndex (token classification). No randomness: row seeds
// are not used.
#pragma once
#include <memory>

#include "bertforge/data/labelled.h"
#include "bertforge/data/loader.h"

namespace bertforge::data {

class LabelledSource : public BatchSource {
 public:
  LabelledSource(std::shared_ptr<const LabelledExamples> examples, std::int32_t pad_id, int pad_to_multiple_of = 0);
  std::uint64_t size() const override { return examples_->rows(); }
  std::uint32_t length(std::uint64_t i) const override { return static_cast<std::uint32_t>(examples_->length(i)); }
  Batch make(const std::vector<std::uint64_t>& indices, const std::vector<std::uint64_t>& row_seeds) const override;
  const LabelledExamples& examples() const { return *examples_; }

 private:
  at::Tensor sequence_labels(const std::vector<std::uint64_t>& indices) const;

  std::shared_ptr<const LabelledExamples> examples_;
  std::int32_t pad_id_;
  int multiple_;
};

}  // namespace bertforge::data
