// BertForSequenceClassification and BertForTokenClassification: HF's fine-tuning heads of the same names, on
// the same BertModel, with HF's parameter names (bert.*, classifier.weight, classifier.bias) and losses.
//
//   BertConfig c = BertConfig::load("run/config.json");
//   set_labels(c, {{"negative", "positive"}, "single_label_classification"});
//   BertForSequenceClassification m(c);                   // HF initialisation; load weights after
//   auto out = m(input_ids, token_type_ids, attention_mask, labels);   // out.logits [batch, num_labels]
//
// Sequence classification: logits = classifier(dropout(pooler(first token))), dropout classifier_dropout
// (else hidden_dropout_prob). Its loss follows config problem_type as HF's forward does: regression (MSE of
// the squeezed logits and labels, float labels), single_label_classification (mean cross-entropy, int64
// labels [batch]), multi_label_classification (BCE with logits, float labels [batch, num_labels]); when the
// config names none: 1 label is regression, int64 labels single-label, float labels multi-label.
// Token classification (no pooler, as HF): logits = classifier(dropout(last hidden state)) at every
// position, loss the mean cross-entropy over positions whose label is not kIgnoreIndex.
// Inputs as BertForPreTraining's (bert.h). Both run unpadded (token_layout.h): the same logits within
// rounding, none computed at padding; the sequence head runs the last layer past attention at the first
// tokens only (BertModel's `read`), which is all it reads. With `sparse` set and labels given, the token head
// computes logits at labelled positions only: [labelled, num_labels] in row-major order (training; the loss
// and gradients are the dense head's). Losses are fp32 whatever the precision of the logits.
#pragma once
#include <c10/core/Device.h>

#include <optional>
#include <string>
#include <vector>

#include "bertforge/model/bert.h"

namespace bertforge::model {

// The label fields of an HF config.json: id2label (num_labels is its size; HF's default is two labels,
// LABEL_0 and LABEL_1) and problem_type ("" where the config holds null or nothing).
struct LabelInfo {
  std::vector<std::string> id2label;
  std::string problem_type;
};
LabelInfo labels_of(const BertConfig& c);
// Writes id2label, label2id and problem_type as HF's save_pretrained does.
void set_labels(BertConfig& c, const LabelInfo& labels);
// The head's dropout probability: classifier_dropout, or hidden_dropout_prob where that is null.
double classifier_dropout(const BertConfig& c);

struct ClassifierOutput {
  at::Tensor loss;    // scalar; undefined without labels
  at::Tensor logits;  // [batch, num_labels] or [batch, seq, num_labels] ([labelled, num_labels] when sparse)
};

// What both heads hold: the encoder (with or without the pooler), the head's dropout and the classifier,
// initialised as HF does.
struct BertClassifierBase : torch::nn::Module {
  BertClassifierBase(const BertConfig& c, bool add_pooling_layer);
  BertConfig config;
  LabelInfo labels;
  BertModel bert{nullptr};
  torch::nn::Dropout dropout{nullptr};
  torch::nn::Linear classifier{nullptr};
  bool unpad = true;
};

struct BertForSequenceClassificationImpl : BertClassifierBase {
  explicit BertForSequenceClassificationImpl(const BertConfig& c) : BertClassifierBase(c, /*add_pooling_layer=*/true) {}
  ClassifierOutput forward(const at::Tensor& input_ids, const at::Tensor& token_type_ids = {},
                           const at::Tensor& attention_mask = {}, const at::Tensor& labels = {});
};
TORCH_MODULE(BertForSequenceClassification);

struct BertForTokenClassificationImpl : BertClassifierBase {
  explicit BertForTokenClassificationImpl(const BertConfig& c) : BertClassifierBase(c, /*add_pooling_layer=*/false) {}
  ClassifierOutput forward(const at::Tensor& input_ids, const at::Tensor& token_type_ids = {},
                           const at::Tensor& attention_mask = {}, const at::Tensor& labels = {});
  bool sparse = false;
};
TORCH_MODULE(BertForTokenClassification);

// The head a config.json's architectures names: true for BertForTokenClassification, false for
// BertForSequenceClassification, nullopt for anything else (a pre-training model, say).
std::optional<bool> token_head(const BertConfig& c);

// Either head, as fine-tuning and inference take whichever a folder holds.
class Classifier {
 public:
  // A fresh head of config c (HF initialisation), the sequence head unless `token`.
  Classifier(const BertConfig& c, bool token);
  // The head config.json's architectures names (BertForSequenceClassification or BertForTokenClassification),
  // with the folder's weights (pretrained.h's load_pretrained; its warnings on stderr).
  static Classifier from_pretrained(const std::string& dir, c10::Device device = c10::kCPU);

  bool token() const { return static_cast<bool>(token_); }
  const char* architecture() const;
  torch::nn::Module& module();
  const BertConfig& config() const;
  const LabelInfo& labels() const;
  ClassifierOutput operator()(const at::Tensor& input_ids, const at::Tensor& token_type_ids,
                              const at::Tensor& attention_mask, const at::Tensor& labels = {});
  // The token head's `sparse` (the sequence head reads the first tokens anyway).
  void set_sparse(bool on);
  bool sparse() const { return token() && token_->sparse; }

 private:
  BertForSequenceClassification sequence_{nullptr};
  BertForTokenClassification token_{nullptr};
};

}  // namespace bertforge::model
