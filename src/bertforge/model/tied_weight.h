// The word-embedding matrix that BertForPreTraining shares between the input lookup and the MLM decoder, split
// into its two uses by one autograd node, so that both gradients meet there.
//
//   auto [lookup, decoder] = tie_word_weight(word_embeddings->weight);
//   at::embedding(lookup, ids, padding_idx, false, /*sparse=*/true) ... linear(hidden, decoder, bias)
//
// Both results are the weight itself (views of it). Backward adds the lookup's gradient, sparse (the batch's
// rows), into the decoder's dense one, in place where autograd handed over the only reference; a vocabulary-sized
// zero matrix for the lookup and the sum of the two dense matrices are never made (about 3 % of a bert-mini or
// bert-base CPU step). With no decoder gradient (a backward of nsp_loss alone) the lookup's rows are made dense
// there, so the weight's .grad is dense whatever is differentiated.
#pragma once
#include <ATen/core/Tensor.h>

#include <utility>

namespace bertforge::model {

std::pair<at::Tensor, at::Tensor> tie_word_weight(const at::Tensor& weight);

}  // namespace bertforge::model
