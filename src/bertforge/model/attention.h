// BERT's scaled dot-product attention over [batch, heads, seq, head_dim] tensors with a boolean padding mask
// ([batch, 1, 1, seq], true = attend, or undefined), attention dropout p applied when train is true.
//
// Without dropout (eval, or p == 0) this is at::scaled_dot_product_attention, which takes its flash kernel on
// CPU and on CUDA (a boolean mask does not keep it from flash; a dropout p > 0 does, on CPU). With dropout on
// CPU it is softmax(q k^T / sqrt(d) + mask bias) through model/dropout.h's kernel, times v, all in the inputs'
// dtype: SDPA's math fallback would draw with bernoulli_ and, for bf16, run in fp32 copies of q, k and v.
// Other devices keep SDPA with dropout (flash or memory-efficient kernels on CUDA).
//
// multi_head_attention runs it over activations of a TokenLayout: padded ones as they are, unpadded ones
// gathered into the padded shape, heads first, for one masked call over the batch (one copy of q, k and v each,
// padding slots holding copies of their row's first token: the key mask gives them a probability of exactly 0,
// so their values never count and the gradient they send back is exactly 0), and gathered again after it.
// Small models at large batches lose more to a call per sequence than the gathers cost (measured at batch 8,
// bert-base: no faster either).
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>

#include "bertforge/model/token_layout.h"

namespace bertforge::model {

at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask, double p,
                     bool train);
// q, k, v and the result: activations of `layout`, [..., heads * head_dim].
at::Tensor multi_head_attention(const TokenLayout& layout, const at::Tensor& q, const at::Tensor& k,
                                const at::Tensor& v, std::int64_t heads, double p, bool train);

}  // namespace bertforge::model
