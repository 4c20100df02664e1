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
#include "bertforge/util/json_file.h"

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
  nlohmann::json j = read_json_file(o.config_file, "training arguments");
  for (auto [key, field] : {std::pair{"model", &o.spec.model}, {"train_data", &o.spec.train_data},
                            {"eval_data", &o.spec.eval_data}, {"device", &o.spec.device},
                            {"tokenizer", &o.spec.tokenizer}})
    if (j.contains(key)) *field = j[key].get<std::string>(), j.erase(key);
  o.spec.args.update(j, o.config_file);
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

// One option per TrainingArguments key, in HF's documentation groups; booleans may stand alone.
void add_training_arguments(CLI::App* app, std::shared_ptr<PretrainOptions> o) {
  for (const auto& s : train::training_arg_specs()) {
    train::TrainingArgHelp h = train::training_arg_help(s.name);
    std::string values = h.choices.empty() ? (h.type == "BOOL" ? "[true|false]" : h.type) : "{";
    if (!h.range.empty()) values += " " + h.range;  // the range validate() checks
    for (std::size_t i = 0; i < h.choices.size(); ++i) values += h.choices[i] + (i + 1 < h.choices.size() ? "," : "}");
    auto* opt = app->add_option_function<std::string>(
        "--" + s.name, [o, name = s.name](const std::string& v) { o->given[name] = v; }, s.help);
    if (h.type == "BOOL") opt->expected(0, 1);  // --bf16 == --bf16 true; --bf16 false turns it off
    opt->option_text(values + " (default " + (h.default_value.empty() ? "unset" : h.default_value) + ")")->group(h.group);
  }
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
  add_training_arguments(app, o);
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
