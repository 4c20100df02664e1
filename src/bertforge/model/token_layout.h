// Where the real tokens of a padded [batch, seq] batch are, so that the encoder can skip the padding.
//
// A padded layout keeps activations [batch, seq, features] and attends through SDPA with a boolean key mask,
// as HF does: every position is computed, padding included. An unpadded layout holds the positions where
// attention_mask is 1, in row-major order; activations are [tokens, features], so embeddings, linear layers,
// LayerNorm and the heads run on real tokens only; attention (model/attention.h) scatters q, k and v back into
// the padded shape and runs the padded layout's masked SDPA. At real positions both give the same values
// (within rounding); an unpadded layout has nothing at padded positions, and pad() writes zeros there. The
// layout maps positions only: it computes nothing.
//
// Deciding costs one device-to-host copy of the row lengths (and one of whether every row starts with a token).
#pragma once
#include <ATen/core/Tensor.h>

namespace bertforge::model {

class TokenLayout {
 public:
  TokenLayout() = default;
  // input_ids: [batch, seq]; attention_mask: [batch, seq] (1 = token) or undefined (all tokens).
  // With unpad set, the layout is unpadded when some position is padding and every row's first position is
  // a token (the pooler reads it); a batch without padding gets a padded layout without a mask.
  TokenLayout(const at::Tensor& input_ids, const at::Tensor& attention_mask, bool unpad);

  bool unpadded() const { return indices_.defined(); }
  std::int64_t batch() const { return batch_; }
  std::int64_t seq() const { return seq_; }
  // The padded layout's key mask: bool [batch, 1, 1, seq] (true = attend), undefined when there is no padding.
  const at::Tensor& key_mask() const { return mask_; }
  // [batch, seq, ...] -> [tokens, ...] when unpadded; otherwise x itself.
  at::Tensor unpad(const at::Tensor& x) const;
  // [tokens, f] -> [batch, seq, f] with zeros at padding when unpadded; otherwise x itself.
  at::Tensor pad(const at::Tensor& x) const;
  // The position id of each activation row: [tokens], or [seq] (broadcast over the batch).
  at::Tensor positions() const;
  // Each batch row's first position as an index into the activation rows (flattened when padded): [batch].
  at::Tensor first_rows() const;
  // [n, f] activations at activation rows `rows` (int64 [n]) -> [batch, seq, f] with zeros everywhere else.
  at::Tensor pad_rows(const at::Tensor& x, const at::Tensor& rows) const;
  // Unpadded: for every position of [batch, seq] (flattened), the activation row it reads when gathered into
  // the padded shape: its own token, or at padding its row's first token (int64 [batch * seq]). Attention
  // gathers q, k and v so, where its key mask gives those copies a probability of exactly 0.
  const at::Tensor& slots() const { return slots_; }
  // Unpadded: each activation row's flat position in [batch, seq] (int64 [tokens]).
  const at::Tensor& flat_positions() const { return indices_; }

 private:
  // [n, f] rows placed at flat positions (int64 [n], into batch * seq) of a zero [batch, seq, f].
  at::Tensor scatter(const at::Tensor& x, const at::Tensor& positions) const;

  std::int64_t batch_ = 0, seq_ = 0;
  at::TensorOptions options_;
  at::Tensor mask_;
  at::Tensor indices_;  // unpadded: int64 [tokens], into batch * seq
  at::Tensor starts_;   // unpadded: int64 [batch], each row's first activation row
  at::Tensor slots_;    // unpadded: int64 [batch * seq], see slots()
};

}  // namespace bertforge::model
