#include "bertforge/model/classifier.h"

#include <ATen/ops/binary_cross_entropy_with_logits.h>
#include <ATen/ops/mse_loss.h>
#include <nlohmann/json.hpp>  // json: the label fields of config.json

#include <filesystem>

#include "bertforge/model/dropout.h"
#include "bertforge/model/linear.h"
#include "bertforge/model/pretrained.h"
#include "bertforge/util/error.h"
#include "bertforge/util/ignore_index.h"

namespace bertforge::model {
namespace {

nlohmann::json extra_value(const BertConfig& c, const std::string& key) {
  auto it = c.extra.find(key);
  return it == c.extra.end() ? nlohmann::json() : nlohmann::json::parse(it->second);
}

// HF's fallback when problem_type is null, decided from the first labels the model sees.
std::string problem_type(const LabelInfo& l, const at::Tensor& labels) {
  if (!l.problem_type.empty()) return l.problem_type;
  if (l.id2label.size() == 1) return "regression";
  return at::isIntegralType(labels.scalar_type(), false) ? "single_label_classification" : "multi_label_classification";
}

at::Tensor sequence_loss(const std::string& problem, const at::Tensor& logits, const at::Tensor& labels) {
  const auto n = logits.size(-1);
  if (problem == "regression")
    return n == 1 ? at::mse_loss(logits.to(at::kFloat).squeeze(), labels.to(at::kFloat).squeeze())
                  : at::mse_loss(logits.to(at::kFloat), labels.to(at::kFloat));
  if (problem == "single_label_classification") return cross_entropy(logits.view({-1, n}), labels.view(-1));
  if (problem == "multi_label_classification")
    return at::binary_cross_entropy_with_logits(logits.to(at::kFloat), labels.to(at::kFloat));
  throw Error("config: problem_type: '" + problem + "' is not regression, single_label_classification or "
              "multi_label_classification");
}

}  // namespace

LabelInfo labels_of(const BertConfig& c) {
  LabelInfo l;
  const nlohmann::json id2label = extra_value(c, "id2label"), problem = extra_value(c, "problem_type");
  if (id2label.is_object()) {
    l.id2label.resize(id2label.size());
    for (const auto& [id, name] : id2label.items()) {
      std::size_t i = id.find_first_not_of("0123456789") == std::string::npos && !id.empty() ? std::stoul(id) : l.id2label.size();
      if (i >= l.id2label.size() || !name.is_string())
        throw Error("config: id2label: '" + id + "' is not a label id below " + std::to_string(l.id2label.size()) +
                    " with a string name");
      l.id2label[i] = name.get<std::string>();
    }
  } else {
    l.id2label = {"LABEL_0", "LABEL_1"};
  }
  if (problem.is_string()) l.problem_type = problem.get<std::string>();
  return l;
}

void set_labels(BertConfig& c, const LabelInfo& l) {
  nlohmann::json id2label = nlohmann::json::object(), label2id = nlohmann::json::object();
  for (std::size_t i = 0; i < l.id2label.size(); ++i) {
    id2label[std::to_string(i)] = l.id2label[i];
    label2id[l.id2label[i]] = i;
  }
  c.extra["id2label"] = id2label.dump();
  c.extra["label2id"] = label2id.dump();
  c.extra["problem_type"] = l.problem_type.empty() ? "null" : nlohmann::json(l.problem_type).dump();
}

double classifier_dropout(const BertConfig& c) {
  const nlohmann::json p = extra_value(c, "classifier_dropout");
  return p.is_number() ? p.get<double>() : c.hidden_dropout_prob;
}

BertClassifierBase::BertClassifierBase(const BertConfig& c, bool add_pooling_layer) : config(c), labels(labels_of(c)) {
  config.validate("config");
  bert = register_module("bert", BertModel(c, add_pooling_layer));
  dropout = register_module("dropout", torch::nn::Dropout(classifier_dropout(c)));
  classifier = register_module("classifier", torch::nn::Linear(c.hidden_size, static_cast<std::int64_t>(labels.id2label.size())));
  init_bert_weights(*this, config.initializer_range);
}

ClassifierOutput BertForSequenceClassificationImpl::forward(const at::Tensor& input_ids, const at::Tensor& token_type_ids,
                                                            const at::Tensor& attention_mask, const at::Tensor& labels_) {
  // Only the first tokens are read: the last layer runs past attention there alone.
  auto encoded = bert(input_ids, token_type_ids, attention_mask, unpad, at::zeros_like(input_ids, at::kBool));
  ClassifierOutput out;
  out.logits = linear(classifier, model::dropout(encoded.pooler_output, dropout->options.p(), is_training()));
  if (labels_.defined()) out.loss = sequence_loss(problem_type(labels, labels_), out.logits, labels_);
  return out;
}

ClassifierOutput BertForTokenClassificationImpl::forward(const at::Tensor& input_ids, const at::Tensor& token_type_ids,
                                                         const at::Tensor& attention_mask, const at::Tensor& labels_) {
  const bool only_labelled = sparse && labels_.defined();
  auto encoded = bert(input_ids, token_type_ids, attention_mask, unpad,
                      only_labelled ? labels_.ne(kIgnoreIndex) : at::Tensor());
  ClassifierOutput out;
  auto head = [&](const at::Tensor& hidden) {
    return linear(classifier, model::dropout(hidden, dropout->options.p(), is_training()));
  };
  if (only_labelled) {
    auto [hidden, target] = encoded.labelled(labels_);
    out.logits = head(hidden);
    out.loss = cross_entropy(out.logits, target);
    return out;
  }
  out.logits = head(encoded.layout.pad(encoded.last_hidden_state));
  const auto n = out.logits.size(-1);
  if (labels_.defined()) out.loss = cross_entropy(out.logits.reshape({-1, n}), labels_.reshape(-1));
  return out;
}

Classifier::Classifier(const BertConfig& c, bool token) {
  if (token) token_ = BertForTokenClassification(c);
  else sequence_ = BertForSequenceClassification(c);
}

std::optional<bool> token_head(const BertConfig& c) {
  const nlohmann::json arch = extra_value(c, "architectures");
  if (!arch.is_array()) return std::nullopt;
  for (const auto& a : arch) {
    if (a == "BertForTokenClassification") return true;
    if (a == "BertForSequenceClassification") return false;
  }
  return std::nullopt;
}

Classifier Classifier::from_pretrained(const std::string& dir, c10::Device device) {
  const std::string path = (std::filesystem::path(dir) / "config.json").string();
  BertConfig c = BertConfig::load(path);
  const std::optional<bool> token = token_head(c);
  if (!token) {
    auto it = c.extra.find("architectures");
    fail_at(path, 0, "architectures: " + (it == c.extra.end() ? std::string("missing") : it->second) +
                         ", not BertForSequenceClassification or BertForTokenClassification (fine-tune it first)");
  }
  Classifier m(c, *token);
  LoadReport report = load_pretrained(m.module(), dir);
  if (!report.missing.empty()) fail_at(dir, 0, "lacks the classifier's weights (" + report.missing.front() + ")");
  m.module().to(device);
  return m;
}

const char* Classifier::architecture() const {
  return token() ? "BertForTokenClassification" : "BertForSequenceClassification";
}

torch::nn::Module& Classifier::module() {
  return token() ? static_cast<torch::nn::Module&>(*token_) : *sequence_;
}

const BertConfig& Classifier::config() const { return token() ? token_->config : sequence_->config; }

const LabelInfo& Classifier::labels() const { return token() ? token_->labels : sequence_->labels; }

ClassifierOutput Classifier::operator()(const at::Tensor& input_ids, const at::Tensor& token_type_ids,
                                        const at::Tensor& attention_mask, const at::Tensor& labels) {
  return token() ? token_->forward(input_ids, token_type_ids, attention_mask, labels)
                 : sequence_->forward(input_ids, token_type_ids, attention_mask, labels);
}

void Classifier::set_sparse(bool on) {
  if (token()) token_->sparse = on;
}

}  // namespace bertforge::model
