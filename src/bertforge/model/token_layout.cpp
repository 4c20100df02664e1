#include "bertforge/model/token_layout.h"

#include <ATen/TensorOperators.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/nonzero.h>
#include <ATen/ops/tensor.h>
#include <ATen/ops/zeros.h>

#include <vector>

#include "bertforge/model/attention.h"

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

at::Tensor TokenLayout::attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, std::int64_t heads,
                                  double dropout_p, bool train) const {
  const std::int64_t width = q.size(-1);
  // Unpadded activations go back into the padded shape for attention: one masked SDPA over the batch. A loop of
  // unmasked SDPA calls per sequence was as fast on bert-base at batch 8, but its per-call cost made the demo's
  // small model at batch 64 slower than not unpadding at all; the scatter and gather cost little beside either.
  auto heads_first = [&](const at::Tensor& x) {
    return pad(x).view({batch_, seq_, heads, width / heads}).transpose(1, 2);
  };
  at::Tensor context = model::attention(heads_first(q), heads_first(k), heads_first(v), mask_, dropout_p, train);
  context = context.transpose(1, 2).reshape({batch_, seq_, width});
  return unpadded() ? unpad(context) : context;
}

}  // namespace bertforge::model
