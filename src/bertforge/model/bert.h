// BertModel and BertForPreTraining: HF's classes of the same names, on LibTorch. The model takes id tensors
// (it never tokenizes) and returns named outputs.
//
//   BertForPreTraining m(BertConfig::preset("mini"));    // HF initialisation (init_weights), fp32, CPU
//   m->to(device); m->train();  /  m->eval();
//   auto out = m(input_ids, token_type_ids, attention_mask, labels, next_sentence_label);
//   out.loss.backward();
//
// Inputs: [batch, seq] int64 on the model's device; token_type_ids and attention_mask (1 = token, 0 = padding)
// may be undefined tensors (all zeros / all ones); labels ([batch, seq], kIgnoreIndex = not predicted) and
// next_sentence_label ([batch], 0 = B follows A, 1 = random) are optional. The loss is HF's: mean
// cross-entropy over labelled positions + mean NSP cross-entropy, each term present when its labels are.
// With sparse_mlm set and labels given, the vocabulary projection runs only at labelled positions:
// prediction_logits is then [labelled positions in row-major order, vocab], the loss and gradients are the
// dense head's. Losses are computed in fp32 whatever the precision of the logits. With unpad also set (the
// default), such a forward skips padding (see token_layout.h): the outputs read at real positions only are
// the padded computation's within rounding, last_hidden_state holds zeros at padding. With prune_last_layer
// also set (the default), the last layer runs past attention only where the heads read it (BertModel's
// `read`): the same logits, losses and gradients within rounding, and last_hidden_state holds values only at
// labelled positions and each row's first, zeros elsewhere. Dense outputs (no
// labels or no sparse_mlm) are always computed padded, as HF does, padding included. named_parameters()
// yields HF's state-dict keys; the tied decoder appears once, as
// bert.embeddings.word_embeddings.weight.
#pragma once
#include "bertforge/model/layers.h"

namespace bertforge::model {

struct BertModelOutput {
  at::Tensor last_hidden_state;  // [batch, seq, hidden]; [tokens, hidden] when layout.unpadded(); [rows, hidden]
  at::Tensor pooler_output;      // [batch, hidden]
  TokenLayout layout;            // where last_hidden_state's rows stand in the batch
  at::Tensor rows;               // with `read`: the activation rows of the layout that last_hidden_state holds

  // The hidden states at the positions whose label is not kIgnoreIndex ([labelled, hidden], row-major order)
  // and those labels ([labelled]); labels: [batch, seq], the `read` positions when `read` was given.
  std::pair<at::Tensor, at::Tensor> labelled(const at::Tensor& labels) const;
};

struct BertModelImpl : torch::nn::Module {
  // add_pooling_layer false: no pooler (HF's BertForTokenClassification), pooler_output undefined.
  explicit BertModelImpl(const BertConfig& c, bool add_pooling_layer = true);
  // unpad: run on the real tokens only where the batch has padding (TokenLayout). read: bool [batch, seq],
  // the positions whose final hidden state the caller reads (undefined: all); the last layer's output
  // projection, feed-forward and LayerNorms then run only there and at each row's first position (the
  // pooler's), in row-major order (`rows`), so last_hidden_state is [rows, hidden]. word_weight: as
  // BertEmbeddings takes it.
  BertModelOutput forward(const at::Tensor& input_ids, const at::Tensor& token_type_ids = {},
                          const at::Tensor& attention_mask = {}, bool unpad = false, const at::Tensor& read = {},
                          const at::Tensor& word_weight = {});
  BertEmbeddings embeddings{nullptr};
  BertEncoder encoder{nullptr};
  BertPooler pooler{nullptr};  // null without the pooling layer
  std::int64_t max_positions;
  // Under autocast to a lower precision, the embeddings' output is cast once and the layers pass activations
  // in that dtype (LayerNorm and softmax compute in fp32 inside, and return the input's dtype), instead of an
  // fp32 residual stream cast again before every matmul. false: plain autocast, for comparison.
  bool low_precision_activations = true;
};
TORCH_MODULE(BertModel);

struct BertForPreTrainingOutput {
  at::Tensor loss;                     // scalar; undefined without labels and next_sentence_label
  at::Tensor mlm_loss, nsp_loss;       // the two terms (each undefined without its labels)
  at::Tensor prediction_logits;        // [batch, seq, vocab], or [labelled, vocab] with sparse_mlm
  at::Tensor seq_relationship_logits;  // [batch, 2]
  at::Tensor last_hidden_state;        // [batch, seq, hidden] (zeros at padding when unpadded)
};

struct BertForPreTrainingImpl : torch::nn::Module {
  explicit BertForPreTrainingImpl(const BertConfig& c);
  BertForPreTrainingOutput forward(const at::Tensor& input_ids, const at::Tensor& token_type_ids = {},
                                   const at::Tensor& attention_mask = {}, const at::Tensor& labels = {},
                                   const at::Tensor& next_sentence_label = {});
  void init_weights();  // init_bert_weights, and the MLM head's bias zero

  BertConfig config;
  BertModel bert{nullptr};
  BertPreTrainingHeads cls{nullptr};
  bool sparse_mlm = false;
  bool unpad = true;
  bool prune_last_layer = true;
};
TORCH_MODULE(BertForPreTraining);

// HF's CrossEntropyLoss as its heads take it: the mean over the rows whose target (int64) is not kIgnoreIndex,
// computed in fp32 whatever the precision of the logits.
at::Tensor cross_entropy(const at::Tensor& logits, const at::Tensor& target);

// HF's _init_weights over every submodule of m: Linear and Embedding weights ~ normal(0, initializer_range),
// the padding row and every bias zero, LayerNorm weight 1 and bias 0. Draws from LibTorch's default generator
// (torch::manual_seed).
void init_bert_weights(torch::nn::Module& m, double initializer_range);

}  // namespace bertforge::model
