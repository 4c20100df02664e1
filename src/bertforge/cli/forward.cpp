// `bertforge forward`: run the model a folder holds (BertForPreTraining, or a fine-tuned
// BertForSequenceClassification / BertForTokenClassification) once on tensors from a safetensors file and
// write what it computes (logits, hidden states, losses and, with --grads, every parameter gradient as
// "grad.<name>") to a safetensors file. For checking a checkpoint against another implementation, and for
// creating a freshly initialised model folder (--config NAME --save DIR).
#include <torch/utils.h>

#include "bertforge/cli/commands.h"
#include "bertforge/cli/options.h"
#include "bertforge/model/autocast.h"
#include "bertforge/model/classifier.h"
#include "bertforge/model/cpu_caps.h"
#include "bertforge/model/device.h"
#include "bertforge/model/pretrained.h"
#include "bertforge/model/safetensors.h"
#include "bertforge/util/error.h"

namespace bertforge::cli {
namespace {

struct ForwardOptions {
  std::string model, config, inputs, output, save, device;
  bool bf16 = false;
  std::uint64_t seed = 42;
  bool grads = false, sparse_mlm = false, train = false;
};

at::Tensor input(const model::SafetensorsFile& f, const std::string& name, const c10::Device& device) {
  return f.find(name) ? f.tensor(name).to(device, at::kLong) : at::Tensor();
}

void add_grads(torch::nn::Module& m, std::vector<std::pair<std::string, at::Tensor>>& tensors) {
  for (const auto& p : m.named_parameters())
    if (p.value().grad().defined()) tensors.emplace_back("grad." + p.key(), p.value().grad());
}

void save_outputs(std::vector<std::pair<std::string, at::Tensor>> tensors, const std::string& path) {
  for (auto& [name, t] : tensors) t = t.detach().to(at::kFloat);
  model::save_safetensors(path, tensors);
}

bool holds_classifier(const std::string& dir) {
  return !dir.empty() && model::token_head(model::BertConfig::load(dir + "/config.json")).has_value();
}

// A classifier's logits and loss; labels as the file holds them (int64 class ids, or float values).
int run_classifier(const ForwardOptions& o, c10::Device device) {
  model::Classifier m = model::Classifier::from_pretrained(o.model, device);
  m.module().train(o.train);
  if (o.inputs.empty()) return 0;
  model::SafetensorsFile in(o.inputs);
  at::Tensor labels = in.find("labels") ? in.tensor("labels").to(device) : at::Tensor();
  if (labels.defined() && at::isIntegralType(labels.scalar_type(), false)) labels = labels.to(at::kLong);
  model::ClassifierOutput out;
  {
    model::Autocast mixed(device.type(), o.bf16 ? at::kBFloat16 : at::kFloat);
    out = m(input(in, "input_ids", device), input(in, "token_type_ids", device), input(in, "attention_mask", device), labels);
  }
  std::vector<std::pair<std::string, at::Tensor>> tensors{{"logits", out.logits}};
  if (out.loss.defined()) tensors.emplace_back("loss", out.loss);
  if (o.grads) {
    if (!out.loss.defined()) throw Error(o.inputs + ": --grads needs labels");
    out.loss.backward();
    add_grads(m.module(), tensors);
  }
  save_outputs(tensors, o.output);
  return 0;
}

int run_forward(const ForwardOptions& o) {
  c10::Device device = model::parse_device(o.device);
  model::prepare_cpu(o.bf16, device);
  if (holds_classifier(o.model)) return run_classifier(o, device);
  model::BertForPreTraining m{nullptr};
  if (!o.model.empty()) {
    m = model::from_pretrained(o.model, device).model;
  } else {
    torch::manual_seed(o.seed);
    m = model::BertForPreTraining(model::BertConfig::preset_or_file(o.config));
    m->to(device);
  }
  m->train(o.train);
  m->sparse_mlm = o.sparse_mlm;
  if (!o.inputs.empty()) {
    model::SafetensorsFile in(o.inputs);
    model::BertForPreTrainingOutput out;
    {
      model::Autocast mixed(device.type(), o.bf16 ? at::kBFloat16 : at::kFloat);
      out = m(input(in, "input_ids", device), input(in, "token_type_ids", device),
              input(in, "attention_mask", device), input(in, "labels", device),
              input(in, "next_sentence_label", device));
    }
    std::vector<std::pair<std::string, at::Tensor>> tensors{
        {"prediction_logits", out.prediction_logits},
        {"seq_relationship_logits", out.seq_relationship_logits},
        {"last_hidden_state", out.last_hidden_state}};
    for (auto [name, t] : {std::pair{"loss", out.loss}, {"mlm_loss", out.mlm_loss}, {"nsp_loss", out.nsp_loss}})
      if (t.defined()) tensors.emplace_back(name, t);
    if (o.grads) {
      if (!out.loss.defined()) throw Error(o.inputs + ": --grads needs labels or next_sentence_label");
      out.loss.backward();
      add_grads(*m, tensors);
    }
    save_outputs(tensors, o.output);
  }
  if (!o.save.empty()) model::save_pretrained(*m, o.save);
  return 0;
}

}  // namespace

Command add_forward(CLI::App& parent) {
  auto o = std::make_shared<ForwardOptions>();
  auto* app = parent.add_subcommand("forward", "run a model folder (pre-training or fine-tuned) on tensors from a safetensors file");
  auto* src = app->add_option("--model", o->model, "HF model folder (config.json + model.safetensors)");
  auto* cfg = app->add_option("--config", o->config, "instead of --model: a preset (tiny, mini, small, medium, "
                                                     "base, large) or a config.json; HF initialisation");
  src->excludes(cfg);
  app->add_option("--seed", o->seed, "seed of the initialisation with --config")->capture_default_str();
  auto* in = app->add_option("--inputs", o->inputs, "safetensors with input_ids [, token_type_ids, "
                                                    "attention_mask, labels, next_sentence_label]");
  auto* out = app->add_option("--output", o->output, "safetensors to write the outputs to");
  in->needs(out);
  out->needs(in);
  app->add_flag("--grads", o->grads, "backpropagate the loss and write grad.<parameter> tensors too");
  app->add_flag("--sparse-mlm", o->sparse_mlm, "project onto the vocabulary only at labelled positions");
  app->add_flag("--train", o->train, "training mode (dropout on); default is eval mode");
  add_bf16(app, o->bf16);
  add_device(app, o->device);
  app->add_option("--save", o->save, "afterwards save the model as an HF folder here");
  app->callback([src, cfg] {
    if (src->empty() && cfg->empty()) throw CLI::RequiredError("--model or --config");
  });
  return {app, [o] { return run_forward(*o); }};
}

}  // namespace bertforge::cli
