#include "bertforge/model/token_layout.h"

#include <ATen/ops/arange.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/nonzero.h>
#include <ATen/ops/zeros.h>

#include <algorithm>

#include "bertforge/model/attention.h"

namespace bertforge::model {

TokenLayout::TokenLayout(const at::Tensor& input_ids, const at::Tensor& attention_mask, bool unpad)
    : batch_(input_ids.size(0)), seq_(input_ids.size(1)), options_(input_ids.options().dtype(at::kLong)) {
  if (!attention_mask.defined()) return;
  at::Tensor mask = attention_mask.to(at::kBool);
  if (unpad) {
    at::Tensor lengths = mask.sum(1).cpu();
    const auto* n = lengths.data_ptr<std::int64_t>();
    offsets_.assign(1, 0);
    for (std::int64_t i = 0; i < batch_; ++i) offsets_.push_back(offsets_.back() + n[i]);
    if (offsets_.back() == batch_ * seq_) {
      offsets_.clear();
      return;  // no padding: nothing to mask, nothing to skip
    }
    if (mask.select(1, 0).all().item<bool>()) {
      indices_ = at::nonzero(mask.reshape(-1)).squeeze(1);
      starts_ = at::empty({batch_}, at::kLong);
      std::copy(offsets_.begin(), offsets_.end() - 1, starts_.data_ptr<std::int64_t>());
      starts_ = starts_.to(options_.device());
      return;
    }
    offsets_.clear();
  }
  mask_ = mask.view({batch_, 1, 1, seq_});
}

at::Tensor TokenLayout::unpad(const at::Tensor& x) const {
  return unpadded() ? x.flatten(0, 1).index_select(0, indices_) : x;
}

at::Tensor TokenLayout::pad(const at::Tensor& x) const {
  if (!unpadded()) return x;
  return at::zeros({batch_ * seq_, x.size(1)}, x.options()).index_copy(0, indices_, x).view({batch_, seq_, x.size(1)});
}

at::Tensor TokenLayout::positions() const {
  return unpadded() ? indices_.remainder(seq_) : at::arange(seq_, options_);
}

at::Tensor TokenLayout::first(const at::Tensor& x) const {
  return unpadded() ? x.index_select(0, starts_) : x.select(1, 0);
}

at::Tensor TokenLayout::attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, std::int64_t heads,
                                  double dropout_p, bool train) const {
  const std::int64_t width = q.size(-1);
  auto heads_first = [&](const at::Tensor& x, std::int64_t rows, std::int64_t len) {
    return x.view({rows, len, heads, width / heads}).transpose(1, 2);
  };
  auto merged = [&](const at::Tensor& context, std::int64_t rows, std::int64_t len) {
    return context.transpose(1, 2).reshape({rows, len, width});
  };
  if (!unpadded()) {
    return merged(model::attention(heads_first(q, batch_, seq_), heads_first(k, batch_, seq_),
                                   heads_first(v, batch_, seq_), mask_, dropout_p, train),
                  batch_, seq_);
  }
  // One unmasked attention per sequence: on CPU (bert-base, seq 128) as fast as one masked SDPA over the
  // padded batch, and faster than scattering q, k and v back into it or masking a block-diagonal [tokens, tokens].
  std::vector<at::Tensor> parts;
  parts.reserve(batch_);
  for (std::int64_t i = 0; i < batch_; ++i) {
    const std::int64_t begin = offsets_[i], len = offsets_[i + 1] - begin;
    auto row = [&](const at::Tensor& x) { return heads_first(x.narrow(0, begin, len), 1, len); };
    parts.push_back(merged(model::attention(row(q), row(k), row(v), {}, dropout_p, train), 1, len).squeeze(0));
  }
  return at::cat(parts);
}

}  // namespace bertforge::model
