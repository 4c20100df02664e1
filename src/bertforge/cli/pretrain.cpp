// `bertforge pretrain`: BERT pre-training with Hugging Face TrainingArguments names (dashes or underscores),
// from the command line and/or a JSON file (--config_file; the command line wins), optionally a multi-phase
// recipe (--recipe). Everything else lives in train/pretrain.h.
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "bertforge/cli/commands.h"
#include "bertforge/cli/options.h"
#include "bertforge/train/pretrain.h"
#include "bertforge/util/error.h"

namespace bertforge::cli {

namespace {
struct PretrainOptions {
  train::PretrainSpec spec;
  std::string config_file, recipe;
  bool print_config = false;
  std::map<std::string, std::string> given;  // TrainingArguments keys from the command line
};

// The JSON file may also name the model and data, as HF's parse_json_file takes every dataclass's keys.
void apply_config_file(PretrainOptions& o) {
  apply_training_config_file(o.config_file, {{"model", &o.spec.model}, {"train_data", &o.spec.train_data},
                                             {"eval_data", &o.spec.eval_data}, {"device", &o.spec.device},
                                             {"tokenizer", &o.spec.tokenizer}}, o.spec.args);
}
// The JSON that each phase's checkpoints hold as training_args.json: one object, or one per recipe phase.
nlohmann::json merged_config(const train::PretrainSpec& spec) {
  if (spec.phases.empty()) return spec.args.to_json();
  nlohmann::json phases = nlohmann::json::array();
  for (const auto& p : spec.phases) {
    train::TrainingArguments a = spec.args;
    a.update(p.overrides, "recipe");
    phases.push_back(a.to_json());
  }
  return phases;
}

}  // namespace

Command add_pretrain(CLI::App& parent) {
  auto* app = parent.add_subcommand("pretrain", "pre-train BERT (MLM + NSP) with HF Trainer semantics");
  app->footer("Every option is also accepted with dashes (--learning-rate). Options also come from --config_file "
              "(JSON, the command line wins) and --recipe (per-phase overrides win).");
  auto o = std::make_shared<PretrainOptions>();
  const std::string run = "Run";
  app->add_option("--model", o->spec.model, "preset (tiny mini small medium base large), config.json, or HF model folder")
      ->capture_default_str()->group(run);
  app->add_option("--train_data", o->spec.train_data, "prepared training data folder, or an HF dataset of ids")->group(run);
  app->add_option("--eval_data", o->spec.eval_data, "prepared evaluation data folder, or an HF dataset of ids")->group(run);
  add_tokenizer(app, o->spec.tokenizer, " (for HF datasets of ids and for whole_word_mask)")->group(run);
  app->add_option("--config_file", o->config_file, "JSON file of training arguments (and model, train_data ...)")->group(run);
  app->add_option("--recipe", o->recipe, "JSON recipe with \"phases\"")->group(run);
  add_device(app, o->spec.device)->group(run);
  add_bool(app, "--quiet", o->spec.quiet, "no progress lines")->group(run);
  add_bool(app, "--verify_parameters", o->spec.verify_parameters,
           "distributed: check that every rank holds the same weights (at start and at each save)")->group(run);
  add_bool(app, "--allow_masking_change", o->spec.allow_masking_change,
           "resume even though the masking options differ from the checkpoint's")->group(run);
  add_bool(app, "--dry_run", o->spec.dry_run,
           "print the plan (steps, tokens, memory, disk, time of a few steps) and write nothing")->group(run);
  add_bool(app, "--print_config", o->print_config,
           "print the merged configuration (the training_args.json each checkpoint holds) and exit")->group(run);
  app->add_option("--dump_batches", o->spec.dump_batches,
                  "also write each training micro-batch (masks applied) to this folder as safetensors")->group(run);
  add_training_arguments(app, [o](const std::string& name, const std::string& v) { o->given[name] = v; });
  return {app, [o] {
            if (!o->config_file.empty()) apply_config_file(*o);
            for (const auto& [k, v] : o->given) o->spec.args.set(k, v);
            if (!o->recipe.empty()) train::load_recipe(o->recipe, o->spec);
            if (o->print_config) {
              std::printf("%s\n", merged_config(o->spec).dump(2).c_str());
              return 0;
            }
            return train::run_pretraining(o->spec);
          }};
}

}  // namespace bertforge::cli
