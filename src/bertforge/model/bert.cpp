#include "bertforge/model/bert.h"

#include <ATen/autocast_mode.h>
#include <ATen/ops/cross_entropy_loss.h>
#include <ATen/ops/nonzero.h>
#include <torch/nn/init.h>

#include "bertforge/model/linear.h"
#include "bertforge/model/tied_weight.h"
#include "bertforge/util/error.h"
#include "bertforge/util/ignore_index.h"

namespace bertforge::model {

at::Tensor cross_entropy(const at::Tensor& logits, const at::Tensor& target) {
  return at::cross_entropy_loss(logits.to(at::kFloat), target, {}, at::Reduction::Mean, kIgnoreIndex);
}

BertModelImpl::BertModelImpl(const BertConfig& c, bool add_pooling_layer) : max_positions(c.max_position_embeddings) {
  embeddings = register_module("embeddings", BertEmbeddings(c));
  encoder = register_module("encoder", BertEncoder(c));
  if (add_pooling_layer) pooler = register_module("pooler", BertPooler(c));
}

BertModelOutput BertModelImpl::forward(const at::Tensor& input_ids, const at::Tensor& token_type_ids,
                                       const at::Tensor& attention_mask, bool unpad, const at::Tensor& read,
                                       const at::Tensor& word_weight) {
  if (input_ids.dim() != 2) throw Error("input_ids: expected [batch, seq], got " + std::to_string(input_ids.dim()) + " dimensions");
  if (input_ids.size(1) > max_positions)
    throw Error("input_ids: sequence length " + std::to_string(input_ids.size(1)) +
                " exceeds max_position_embeddings " + std::to_string(max_positions));
  TokenLayout layout(input_ids, attention_mask, unpad);
  auto hidden = embeddings(input_ids, token_type_ids, layout, word_weight);
  if (low_precision_activations && at::autocast::is_autocast_enabled(hidden.device().type()))
    hidden = hidden.to(at::autocast::get_autocast_dtype(hidden.device().type()));
  auto firsts = layout.first_rows();
  at::Tensor rows;
  if (read.defined()) {
    auto kept = layout.unpad(read.to(at::kBool)).reshape(-1).index_fill(0, firsts, true);
    rows = at::nonzero(kept).squeeze(1);
    firsts = (kept.cumsum(0) - 1).index_select(0, firsts);  // where the first rows land among `rows`
  }
  hidden = encoder(hidden, layout, rows);
  at::Tensor pooled;
  if (pooler) pooled = pooler(hidden.reshape({-1, hidden.size(-1)}).index_select(0, firsts));
  return {hidden, pooled, std::move(layout), rows};
}

// Row-major order either way: the unpadded rows keep the batch's order.
std::pair<at::Tensor, at::Tensor> BertModelOutput::labelled(const at::Tensor& labels) const {
  auto flat = layout.unpad(labels).reshape(-1);
  if (rows.defined()) flat = flat.index_select(0, rows);
  auto where = at::nonzero(flat.ne(kIgnoreIndex)).squeeze(1);
  return {last_hidden_state.reshape({-1, last_hidden_state.size(-1)}).index_select(0, where), flat.index_select(0, where)};
}

BertForPreTrainingImpl::BertForPreTrainingImpl(const BertConfig& c) : config(c) {
  config.validate("config");
  bert = register_module("bert", BertModel(c));
  cls = register_module("cls", BertPreTrainingHeads(c));
  init_weights();
}

BertForPreTrainingOutput BertForPreTrainingImpl::forward(const at::Tensor& input_ids, const at::Tensor& token_type_ids,
                                                         const at::Tensor& attention_mask, const at::Tensor& labels,
                                                         const at::Tensor& next_sentence_label) {
  const bool sparse = sparse_mlm && labels.defined();
  // On CPU the lookup's and the decoder's gradients meet in one node (model/tied_weight.h); on CUDA, where
  // this has not been measured, each use reads the parameter.
  const at::Tensor& weight = bert->embeddings->word_embeddings->weight;
  const auto [lookup, decoder] =
      input_ids.device().is_cpu() ? tie_word_weight(weight) : std::pair{at::Tensor(), weight};
  auto encoded = bert(input_ids, token_type_ids, attention_mask, sparse && unpad,
                      sparse && prune_last_layer ? labels.ne(kIgnoreIndex) : at::Tensor(), lookup);
  BertForPreTrainingOutput out;
  out.last_hidden_state = encoded.rows.defined() ? encoded.layout.pad_rows(encoded.last_hidden_state, encoded.rows)
                                                 : encoded.layout.pad(encoded.last_hidden_state);
  out.seq_relationship_logits = linear(cls->seq_relationship, encoded.pooler_output);
  if (sparse) {
    // Gather the labelled rows first: the [rows, vocab] projection is most of the head's cost.
    auto [hidden, target] = encoded.labelled(labels);
    out.prediction_logits = cls->predictions(hidden, decoder);
    out.mlm_loss = cross_entropy(out.prediction_logits, target);
  } else {
    out.prediction_logits = cls->predictions(encoded.last_hidden_state, decoder);
    if (labels.defined())
      out.mlm_loss = cross_entropy(out.prediction_logits.view({-1, config.vocab_size}), labels.reshape(-1));
  }
  if (next_sentence_label.defined())
    out.nsp_loss = cross_entropy(out.seq_relationship_logits.view({-1, 2}), next_sentence_label.reshape(-1));
  if (out.mlm_loss.defined() && out.nsp_loss.defined())
    out.loss = out.mlm_loss + out.nsp_loss;
  else
    out.loss = out.mlm_loss.defined() ? out.mlm_loss : out.nsp_loss;
  return out;
}

void BertForPreTrainingImpl::init_weights() {
  init_bert_weights(*this, config.initializer_range);
  torch::NoGradGuard no_grad;
  cls->predictions->bias.zero_();
}

void init_bert_weights(torch::nn::Module& module, double initializer_range) {
  torch::NoGradGuard no_grad;
  for (auto& m : module.modules(/*include_self=*/false)) {
    if (auto* linear = m->as<torch::nn::Linear>()) {
      torch::nn::init::normal_(linear->weight, 0.0, initializer_range);
      if (linear->bias.defined()) linear->bias.zero_();
    } else if (auto* embedding = m->as<torch::nn::Embedding>()) {
      torch::nn::init::normal_(embedding->weight, 0.0, initializer_range);
      if (auto pad = embedding->options.padding_idx()) embedding->weight[*pad].zero_();
    } else if (auto* norm = m->as<torch::nn::LayerNorm>()) {
      norm->weight.fill_(1.0);
      norm->bias.zero_();
    }
  }
}

}  // namespace bertforge::model
