#include "bertforge/train/finetune.h"

#include <ATen/Context.h>

#include <csignal>
#include <filesystem>

#include "bertforge/data/labelled_loader.h"
#include "bertforge/model/classifier.h"
#include "bertforge/model/pretrained.h"
#include "bertforge/train/finetune_task.h"
#include "bertforge/train/run_dir.h"
#include "bertforge/train/stop_signal.h"
#include "bertforge/train/trainer.h"
#include "bertforge/util/error.h"
#include "bertforge/util/json_file.h"
#include "bertforge/util/messages.h"

namespace fs = std::filesystem;

namespace bertforge::train {
namespace {

std::shared_ptr<const text::Tokenizer> finetune_tokenizer(const FinetuneSpec& spec) {
  const std::string path = !spec.tokenizer.empty() ? spec.tokenizer : fs::is_directory(spec.model) ? spec.model : "";
  if (path.empty()) throw UsageError("--tokenizer: needed when --model is not a folder holding one");
  return std::make_shared<const text::Tokenizer>(text::Tokenizer::from_pretrained(path));
}

model::LabelInfo label_info(const data::LabelledExamples& train) {
  model::LabelInfo l;
  l.id2label = train.label_names;
  if (train.problem == data::ProblemType::regression) l.id2label = {"LABEL_0"};  // HF: num_labels 1
  if (train.problem != data::ProblemType::token_classification) l.problem_type = data::problem_type_name(train.problem);
  return l;
}

// The classifier for these labels, from a folder's encoder (and its classifier, when it has one) or fresh.
model::Classifier make_classifier(const FinetuneSpec& spec, const data::LabelledExamples& train,
                                  const text::Tokenizer& tokenizer) {
  at::manual_seed(spec.args.seed);
  const bool folder = fs::is_directory(spec.model);
  model::BertConfig c = folder ? model::BertConfig::load((fs::path(spec.model) / "config.json").string())
                               : model::BertConfig::preset_or_file(spec.model);
  if (!folder && !fs::exists(spec.model)) c.vocab_size = tokenizer.vocab_size();
  if (c.vocab_size < tokenizer.vocab_size())
    fail_at(spec.model, 0, "vocab_size " + std::to_string(c.vocab_size) + " is smaller than the tokenizer's " +
                               std::to_string(tokenizer.vocab_size()));
  model::set_labels(c, label_info(train));
  if (!spec.data.task_name.empty()) c.extra["finetuning_task"] = nlohmann::json(spec.data.task_name).dump();
  const bool token = train.problem == data::ProblemType::token_classification;
  model::Classifier m(c, token);
  if (!folder) return m;
  model::LoadReport report = model::load_pretrained(m.module(), spec.model);
  std::size_t dropped = 0;
  for (const auto& key : report.unexpected) dropped += key.rfind("cls.", 0) == 0 || key.rfind("bert.pooler.", 0) == 0;
  if (dropped) note(spec.model + ": the pre-training heads are not used by " + m.architecture() + " (" +
                    std::to_string(dropped) + " tensors dropped)");
  if (dropped < report.unexpected.size())
    warn(spec.model + ": checkpoint tensors the model does not use, ignored: " + report.unexpected.front() + " ...");
  if (!report.missing.empty()) {
    std::string names;
    for (const auto& key : report.missing) names += (names.empty() ? "" : ", ") + key;
    note(std::string(m.architecture()) + ": " + names + " initialised afresh (not in " + spec.model + "), as HF does");
  }
  return m;
}

std::shared_ptr<data::Loader> make_loader(std::shared_ptr<const data::LabelledExamples> examples, std::int32_t pad_id,
                                          const TrainingArguments& a, bool train, const dist::World& world,
                                          c10::Device device) {
  const data::LoaderOptions o = loader_options(a, train, world, device);
  auto source = std::make_shared<data::LabelledSource>(std::move(examples), pad_id, static_cast<int>(a.pad_to_multiple_of));
  return std::make_shared<data::Loader>(std::move(source), o);
}

}  // namespace

int run_finetuning(const FinetuneSpec& spec) {
  spec.args.validate();
  if (spec.train_file.empty()) throw UsageError("--train_file: required");
  if (spec.args.choices().eval != Strategy::no && spec.validation_file.empty())
    throw UsageError("--eval_strategy " + spec.args.eval_strategy + ": needs --validation_file");
  RunSetup run(spec.args, spec.device, spec.dump_batches);
  auto tokenizer = finetune_tokenizer(spec);
  auto train = std::make_shared<const data::LabelledExamples>(data::read_labelled(spec.train_file, *tokenizer, spec.data));
  std::shared_ptr<const data::LabelledExamples> valid;
  if (!spec.validation_file.empty())
    valid = std::make_shared<const data::LabelledExamples>(
        data::read_labelled(spec.validation_file, *tokenizer, spec.data, train.get()));
  model::Classifier m = make_classifier(spec, *train, *tokenizer);

  TrainerInputs in;
  in.task = std::make_shared<FinetuneTask>(m, eval::ClassifierTask{spec.data.task_name, train->problem, train->label_names});
  in.train = make_loader(train, tokenizer->pad_id(), spec.args, true, *run.world, run.device);
  if (valid) in.eval = make_loader(valid, tokenizer->pad_id(), spec.args, false, *run.world, run.device);
  in.tokenizer = tokenizer;
  in.world = run.world.get();
  in.device = run.device;
  in.quiet = spec.quiet;
  in.dump_batches = spec.dump_batches;
  in.loss_hook = fault_steps_from_environment();
  Trainer trainer(spec.args, in);
  if (!run.checkpoint.empty()) trainer.resume(run.checkpoint);
  if (trainer.train() == TrainOutcome::Stopped) {
    const int sig = StopSignal::signal_number();
    return 128 + (sig ? sig : SIGTERM);
  }
  if (in.eval) {
    const nlohmann::json r = trainer.evaluate();
    if (run.world->is_main()) write_json_file((fs::path(spec.args.output_dir) / "eval_results.json").string(), r);
  }
  return 0;
}

}  // namespace bertforge::train
