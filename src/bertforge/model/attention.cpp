#include "bertforge/model/attention.h"

#include <ATen/TensorOperators.h>
#include <ATen/ops/add.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/full.h>
#include <ATen/ops/matmul.h>
#include <ATen/ops/scaled_dot_product_attention.h>
#include <ATen/ops/softmax.h>
#include <ATen/ops/where.h>
#include <ATen/ops/zeros.h>

#include <cmath>
#include <limits>

#include "bertforge/model/dropout.h"

namespace bertforge::model {
namespace {

double lowest(at::ScalarType t) {
  switch (t) {
    case at::kBFloat16: return static_cast<double>(std::numeric_limits<c10::BFloat16>::lowest());
    case at::kHalf: return static_cast<double>(std::numeric_limits<c10::Half>::lowest());
    case at::kDouble: return std::numeric_limits<double>::lowest();
    default: return std::numeric_limits<float>::lowest();
  }
}

}  // namespace

at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask, double p,
                     bool train) {
  std::optional<at::Tensor> sdpa_mask = mask.defined() ? std::optional<at::Tensor>(mask) : std::nullopt;
  if (!train || p == 0 || !q.device().is_cpu() || !fused_dropout())
    return at::scaled_dot_product_attention(q, k, v, sdpa_mask, train ? p : 0.0);
  double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  auto scores = at::matmul(q, k.transpose(-2, -1));
  // The padding bias is the dtype's lowest finite value, as HF's eager attention: an all-padding row gets a
  // uniform distribution instead of NaN.
  at::Tensor logits;
  if (mask.defined()) {
    auto bias = at::where(mask, at::zeros({}, scores.options()), at::full({}, lowest(scores.scalar_type()), scores.options()));
    logits = at::add(bias, scores, scale);
  } else {
    logits = scores * scale;
  }
  return at::matmul(model::dropout(at::softmax(logits, -1), p, true), v);
}

at::Tensor multi_head_attention(const TokenLayout& layout, const at::Tensor& q, const at::Tensor& k,
                                const at::Tensor& v, std::int64_t heads, double p, bool train) {
  const std::int64_t batch = layout.batch(), seq = layout.seq(), width = q.size(-1), dim = width / heads;
  if (!layout.unpadded()) {
    auto heads_first = [&](const at::Tensor& x) { return x.view({batch, seq, heads, dim}).transpose(1, 2); };
    at::Tensor context = attention(heads_first(q), heads_first(k), heads_first(v), layout.key_mask(), p, train);
    return context.transpose(1, 2).reshape({batch, seq, width});
  }
  // One gather each way, of head-sized rows: [tokens * heads, dim] <-> [batch * heads * seq, dim].
  const std::int64_t tokens = q.size(0);
  const auto longs = q.options().dtype(at::kLong);
  const at::Tensor head = at::arange(heads, longs), flat = layout.flat_positions();
  const at::Tensor in = (layout.slots().view({batch, 1, seq}) * heads + head.view({1, heads, 1})).reshape(-1);
  const at::Tensor out =
      ((flat.div(seq, "floor") * (heads * seq) + flat.remainder(seq)).view({tokens, 1}) + (head * seq).view({1, heads}))
          .reshape(-1);
  auto heads_first = [&](const at::Tensor& x) {
    return x.reshape({tokens * heads, dim}).index_select(0, in).view({batch, heads, seq, dim});
  };
  at::Tensor context = attention(heads_first(q), heads_first(k), heads_first(v), layout.key_mask(), p, train);
  return context.reshape({batch * heads * seq, dim}).index_select(0, out).view({tokens, width});
}

}  // namespace bertforge::model
