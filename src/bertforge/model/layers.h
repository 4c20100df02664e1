// The building blocks of BERT, one LibTorch module per HF class in transformers' modeling_bert.py, with the
// same submodule and parameter names, so named_parameters() of the assembled model yields HF's state-dict keys
// (e.g. encoder.layer.0.attention.self.query.weight) and checkpoints need no rename table.
//
// Every module works on whatever device and dtype its parameters live on; under autocast (bf16) the matmuls
// run in the autocast dtype. Activations are shaped by a TokenLayout: [batch, seq, hidden] (padded) or
// [tokens, hidden] (real tokens only); attention is model/attention.h's (through the layout), with a boolean
// padding mask where padded; dropout (model/dropout.h) is applied only in training mode, and the
// torch::nn::Dropout members only hold its probability, under HF's names.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "bertforge/model/config.h"
#include "bertforge/model/token_layout.h"

namespace bertforge::model {

using Activation = at::Tensor (*)(const at::Tensor&);
// The function behind an HF hidden_act name; Error for a name outside known_activations().
Activation activation(const std::string& name);

struct BertEmbeddingsImpl : torch::nn::Module {
  explicit BertEmbeddingsImpl(const BertConfig& c);
  // input_ids, token_type_ids: [batch, seq] int64 (token_type_ids may be undefined: all zeros). Returns
  // activations of `layout`. word_weight: the matrix the word lookup reads instead of word_embeddings->weight,
  // with a sparse gradient (BertForPreTraining's tie, model/tied_weight.h); undefined: the module's own.
  at::Tensor forward(const at::Tensor& input_ids, const at::Tensor& token_type_ids, const TokenLayout& layout,
                     const at::Tensor& word_weight = {});
  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr}, token_type_embeddings{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(BertEmbeddings);

struct BertSelfAttentionImpl : torch::nn::Module {
  explicit BertSelfAttentionImpl(const BertConfig& c);
  // hidden and the result: activations of `layout`.
  at::Tensor forward(const at::Tensor& hidden, const TokenLayout& layout);
  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr};
  std::int64_t heads;
  double dropout_p;
};
TORCH_MODULE(BertSelfAttention);

// dense -> dropout -> LayerNorm(x + residual): HF's BertSelfOutput and BertOutput.
struct BertResidualOutputImpl : torch::nn::Module {
  BertResidualOutputImpl(const BertConfig& c, std::int64_t in_features);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& residual);
  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(BertResidualOutput);

struct BertAttentionImpl : torch::nn::Module {
  explicit BertAttentionImpl(const BertConfig& c);
  // With `rows` (int64 indices into the activation rows) defined, every position still attends, but the
  // output projection and what follows run at those rows only: the result is [rows, hidden].
  at::Tensor forward(const at::Tensor& hidden, const TokenLayout& layout, const at::Tensor& rows = {});
  BertSelfAttention self{nullptr};
  BertResidualOutput output{nullptr};
};
TORCH_MODULE(BertAttention);

struct BertIntermediateImpl : torch::nn::Module {
  explicit BertIntermediateImpl(const BertConfig& c);
  at::Tensor forward(const at::Tensor& hidden);
  torch::nn::Linear dense{nullptr};
  Activation act;
};
TORCH_MODULE(BertIntermediate);

struct BertLayerImpl : torch::nn::Module {
  explicit BertLayerImpl(const BertConfig& c);
  // rows: as BertAttention's.
  at::Tensor forward(const at::Tensor& hidden, const TokenLayout& layout, const at::Tensor& rows = {});
  BertAttention attention{nullptr};
  BertIntermediate intermediate{nullptr};
  BertResidualOutput output{nullptr};
};
TORCH_MODULE(BertLayer);

struct BertEncoderImpl : torch::nn::Module {
  explicit BertEncoderImpl(const BertConfig& c);
  // last_rows: the last layer's rows (BertAttention's), when only those of its output are read.
  at::Tensor forward(at::Tensor hidden, const TokenLayout& layout, const at::Tensor& last_rows = {});
  torch::nn::ModuleList layer{nullptr};
};
TORCH_MODULE(BertEncoder);

// tanh(dense(first)), first: the hidden state of each row's first token, [batch, hidden] (HF's pooler
// selects it itself; here the caller does, as it knows where the first tokens are among its rows).
struct BertPoolerImpl : torch::nn::Module {
  explicit BertPoolerImpl(const BertConfig& c);
  at::Tensor forward(const at::Tensor& first);
  torch::nn::Linear dense{nullptr};
};
TORCH_MODULE(BertPooler);

struct BertPredictionHeadTransformImpl : torch::nn::Module {
  explicit BertPredictionHeadTransformImpl(const BertConfig& c);
  at::Tensor forward(const at::Tensor& hidden);
  torch::nn::Linear dense{nullptr};
  Activation act;
  torch::nn::LayerNorm LayerNorm{nullptr};
};
TORCH_MODULE(BertPredictionHeadTransform);

// HF's decoder is tied to the word embeddings: instead of holding a second name for that tensor (which would
// make named_parameters() list it twice and an optimizer step it twice), forward() takes it as an argument.
// The decoder's bias is `bias`, as in HF's files.
struct BertLMPredictionHeadImpl : torch::nn::Module {
  explicit BertLMPredictionHeadImpl(const BertConfig& c);
  // hidden: [..., hidden]; decoder_weight: [vocab, hidden]. Returns [..., vocab].
  at::Tensor forward(const at::Tensor& hidden, const at::Tensor& decoder_weight);
  BertPredictionHeadTransform transform{nullptr};
  at::Tensor bias;
};
TORCH_MODULE(BertLMPredictionHead);

struct BertPreTrainingHeadsImpl : torch::nn::Module {
  explicit BertPreTrainingHeadsImpl(const BertConfig& c);
  BertLMPredictionHead predictions{nullptr};
  torch::nn::Linear seq_relationship{nullptr};
};
TORCH_MODULE(BertPreTrainingHeads);

}  // namespace bertforge::model
