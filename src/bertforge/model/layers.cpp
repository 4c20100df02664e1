#include "bertforge/model/layers.h"

#include <ATen/ops/embedding.h>
#include <ATen/ops/gelu.h>
#include <ATen/ops/relu.h>
#include <ATen/ops/sigmoid.h>
#include <ATen/ops/silu.h>
#include <ATen/ops/tanh.h>
#include <ATen/ops/zeros.h>
#include <ATen/ops/zeros_like.h>

#include <algorithm>

#include "bertforge/model/attention.h"  // multi_head_attention
#include "bertforge/model/dropout.h"
#include "bertforge/model/linear.h"
#include "bertforge/util/error.h"

namespace bertforge::model {
namespace {

at::Tensor gelu_erf(const at::Tensor& x) { return at::gelu(x); }
at::Tensor gelu_tanh(const at::Tensor& x) { return at::gelu(x, "tanh"); }
at::Tensor quick_gelu(const at::Tensor& x) { return x * at::sigmoid(1.702 * x); }
at::Tensor relu(const at::Tensor& x) { return at::relu(x); }
at::Tensor silu(const at::Tensor& x) { return at::silu(x); }
at::Tensor tanh(const at::Tensor& x) { return at::tanh(x); }

torch::nn::LayerNorm layer_norm(const BertConfig& c) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps));
}

}  // namespace

Activation activation(const std::string& name) {
  const auto& acts = known_activations();
  auto known = std::find_if(acts.begin(), acts.end(), [&](const auto& a) { return a.first == name; });
  if (known == acts.end()) throw Error("hidden_act: unknown activation '" + name + "'");
  switch (known->second) {
    case ActivationKind::gelu_erf: return gelu_erf;
    case ActivationKind::gelu_tanh: return gelu_tanh;
    case ActivationKind::quick_gelu: return quick_gelu;
    case ActivationKind::relu: return relu;
    case ActivationKind::silu: return silu;
    case ActivationKind::tanh: return tanh;
  }
  throw Error("hidden_act: no function for '" + name + "'");  // unreachable: the switch names every kind
}

BertEmbeddingsImpl::BertEmbeddingsImpl(const BertConfig& c) {
  auto word = torch::nn::EmbeddingOptions(c.vocab_size, c.hidden_size);
  if (c.pad_token_id >= 0) word.padding_idx(c.pad_token_id);
  word_embeddings = register_module("word_embeddings", torch::nn::Embedding(word));
  position_embeddings =
      register_module("position_embeddings", torch::nn::Embedding(c.max_position_embeddings, c.hidden_size));
  token_type_embeddings =
      register_module("token_type_embeddings", torch::nn::Embedding(c.type_vocab_size, c.hidden_size));
  LayerNorm = register_module("LayerNorm", layer_norm(c));
  dropout = register_module("dropout", torch::nn::Dropout(c.hidden_dropout_prob));
}

at::Tensor BertEmbeddingsImpl::forward(const at::Tensor& input_ids, const at::Tensor& token_type_ids,
                                       const TokenLayout& layout, const at::Tensor& word_weight) {
  auto types = token_type_ids.defined() ? token_type_ids : at::zeros_like(input_ids);
  const auto ids = layout.unpad(input_ids);
  const auto pad = word_embeddings->options.padding_idx();
  auto words = word_weight.defined() ? at::embedding(word_weight, ids, pad ? *pad : -1, false, /*sparse=*/true)
                                     : word_embeddings(ids);
  auto x = words + token_type_embeddings(layout.unpad(types)) +
           position_embeddings(layout.positions());
  return model::dropout(LayerNorm(x), dropout->options.p(), is_training());
}

BertSelfAttentionImpl::BertSelfAttentionImpl(const BertConfig& c)
    : heads(c.num_attention_heads), dropout_p(c.attention_probs_dropout_prob) {
  query = register_module("query", torch::nn::Linear(c.hidden_size, c.hidden_size));
  key = register_module("key", torch::nn::Linear(c.hidden_size, c.hidden_size));
  value = register_module("value", torch::nn::Linear(c.hidden_size, c.hidden_size));
}

at::Tensor BertSelfAttentionImpl::forward(const at::Tensor& hidden, const TokenLayout& layout) {
  return multi_head_attention(layout, linear(query, hidden), linear(key, hidden), linear(value, hidden), heads,
                              dropout_p, is_training());
}

BertResidualOutputImpl::BertResidualOutputImpl(const BertConfig& c, std::int64_t in_features) {
  dense = register_module("dense", torch::nn::Linear(in_features, c.hidden_size));
  LayerNorm = register_module("LayerNorm", layer_norm(c));
  dropout = register_module("dropout", torch::nn::Dropout(c.hidden_dropout_prob));
}

at::Tensor BertResidualOutputImpl::forward(const at::Tensor& x, const at::Tensor& residual) {
  return LayerNorm(dropout_add(linear(dense, x), residual, dropout->options.p(), is_training()));
}

BertAttentionImpl::BertAttentionImpl(const BertConfig& c) {
  self = register_module("self", BertSelfAttention(c));
  output = register_module("output", BertResidualOutput(c, c.hidden_size));
}

at::Tensor BertAttentionImpl::forward(const at::Tensor& hidden, const TokenLayout& layout, const at::Tensor& rows) {
  auto context = self(hidden, layout);
  if (!rows.defined()) return output(context, hidden);
  auto at_rows = [&](const at::Tensor& x) { return x.reshape({-1, x.size(-1)}).index_select(0, rows); };
  return output(at_rows(context), at_rows(hidden));
}

BertIntermediateImpl::BertIntermediateImpl(const BertConfig& c) : act(activation(c.hidden_act)) {
  dense = register_module("dense", torch::nn::Linear(c.hidden_size, c.intermediate_size));
}

at::Tensor BertIntermediateImpl::forward(const at::Tensor& hidden) { return act(linear(dense, hidden)); }

BertLayerImpl::BertLayerImpl(const BertConfig& c) {
  attention = register_module("attention", BertAttention(c));
  intermediate = register_module("intermediate", BertIntermediate(c));
  output = register_module("output", BertResidualOutput(c, c.intermediate_size));
}

at::Tensor BertLayerImpl::forward(const at::Tensor& hidden, const TokenLayout& layout, const at::Tensor& rows) {
  auto attended = attention(hidden, layout, rows);
  return output(intermediate(attended), attended);
}

BertEncoderImpl::BertEncoderImpl(const BertConfig& c) {
  layer = register_module("layer", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < c.num_hidden_layers; ++i) layer->push_back(BertLayer(c));
}

at::Tensor BertEncoderImpl::forward(at::Tensor hidden, const TokenLayout& layout, const at::Tensor& last_rows) {
  const std::size_t n = layer->size();
  for (std::size_t i = 0; i < n; ++i)
    hidden = layer[i]->as<BertLayer>()->forward(hidden, layout, i + 1 == n ? last_rows : at::Tensor());
  return hidden;
}

BertPoolerImpl::BertPoolerImpl(const BertConfig& c) {
  dense = register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
}

at::Tensor BertPoolerImpl::forward(const at::Tensor& first) { return at::tanh(linear(dense, first)); }

BertPredictionHeadTransformImpl::BertPredictionHeadTransformImpl(const BertConfig& c) : act(activation(c.hidden_act)) {
  dense = register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
  LayerNorm = register_module("LayerNorm", layer_norm(c));
}

at::Tensor BertPredictionHeadTransformImpl::forward(const at::Tensor& hidden) {
  return LayerNorm(act(linear(dense, hidden)));
}

BertLMPredictionHeadImpl::BertLMPredictionHeadImpl(const BertConfig& c) {
  transform = register_module("transform", BertPredictionHeadTransform(c));
  bias = register_parameter("bias", at::zeros({c.vocab_size}));
}

at::Tensor BertLMPredictionHeadImpl::forward(const at::Tensor& hidden, const at::Tensor& decoder_weight) {
  return linear(transform(hidden), decoder_weight, bias);
}

BertPreTrainingHeadsImpl::BertPreTrainingHeadsImpl(const BertConfig& c) {
  predictions = register_module("predictions", BertLMPredictionHead(c));
  seq_relationship = register_module("seq_relationship", torch::nn::Linear(c.hidden_size, 2));
}

}  // namespace bertforge::model
