#include "bertforge/model/token_layout.h"

#include <ATen/TensorOperators.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/nonzero.h>
#include <ATen/ops/repeat_interleave.h>
#include <ATen/ops/tensor.h>
#include <ATen/ops/zeros.h>

#include <vector>

namespace bertforge::model {

TokenLayout::TokenLayout(const at::Tensor& input_ids, const at::Tensor& attention_mask, bool unpad)
    : batch_(input_ids.size(0)), seq_(input_ids.size(1)), options_(input_ids.options().dtype(at::kLong)) {
  if (!attention_mask.defined()) return;
  at::Tensor mask = attention_mask.to(at::kBool);
  if (unpad) {
    at::Tensor lengths = mask.sum(1).cpu();
    const auto* n = lengths.data_ptr<std::int64_t>();
    std::vector<std::int64_t> starts(1, 0);
    for (std::int64_t i = 0; i < batch_; ++i) starts.push_back(starts.back() + n[i]);
    if (starts.back() == batch_ * seq_) return;  // no padding: nothing to mask, nothing to skip
    if (mask.select(1, 0).all().item<bool>()) {
      indices_ = at::nonzero(mask.reshape(-1)).squeeze(1);
      starts.pop_back();
      starts_ = at::tensor(starts, at::kLong).to(options_.device());
      slots_ = starts_.repeat_interleave(seq_).index_put_({indices_}, at::arange(indices_.size(0), options_));
    }
  }
  mask_ = mask.view({batch_, 1, 1, seq_});
}

at::Tensor TokenLayout::unpad(const at::Tensor& x) const {
  return unpadded() ? x.flatten(0, 1).index_select(0, indices_) : x;
}

at::Tensor TokenLayout::scatter(const at::Tensor& x, const at::Tensor& positions) const {
  return at::zeros({batch_ * seq_, x.size(1)}, x.options()).index_copy(0, positions, x).view({batch_, seq_, x.size(1)});
}

at::Tensor TokenLayout::pad(const at::Tensor& x) const { return unpadded() ? scatter(x, indices_) : x; }

at::Tensor TokenLayout::positions() const {
  return unpadded() ? indices_.remainder(seq_) : at::arange(seq_, options_);
}

at::Tensor TokenLayout::first_rows() const {
  return unpadded() ? starts_ : at::arange(batch_, options_) * seq_;
}

at::Tensor TokenLayout::pad_rows(const at::Tensor& x, const at::Tensor& rows) const {
  return scatter(x, unpadded() ? indices_.index_select(0, rows) : rows);
}

}  // namespace bertforge::model
