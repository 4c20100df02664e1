// `bertforge pretrain`: BERT pre-training with Hugging Face TrainingArguments names (dashes or underscores),
// from the command line and/or a JSON file (--config_file; the command line wins), optionally a multi-phase
// recipe (--recipe). Everything else lives in train/pretrain.h.
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "bertforge/cli/commands.h"
#include "bertforge/train/pretrain.h"
#include "bertforge/util/error.h"
#include "bertforge/util/json_file.h"

namespace bertforge::cli {

namespace {
struct PretrainOptions {
  train::PretrainSpec spec;
  std::string config_file, recipe;
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
}  // namespace

Command add_pretrain(CLI::App& parent) {
  auto* app = parent.add_subcommand("pretrain", "pre-train BERT (MLM + NSP) with HF Trainer semantics");
  auto o = std::make_shared<PretrainOptions>();
  app->add_option("--model", o->spec.model, "preset (tiny mini small medium base large), config.json, or HF model folder")
      ->capture_default_str();
  app->add_option("--train_data,--train-data", o->spec.train_data, "prepared training data folder");
  app->add_option("--eval_data,--eval-data", o->spec.eval_data, "prepared evaluation data folder");
  app->add_option("--tokenizer", o->spec.tokenizer, "vocab.txt or tokenizer folder (needed for HF datasets of ids)");
  app->add_option("--config_file,--config-file", o->config_file, "JSON file of training arguments");
  app->add_option("--recipe", o->recipe, "JSON recipe with \"phases\"");
  app->add_option("--device", o->spec.device, "auto, cpu, cuda, cuda:N")->capture_default_str();
  app->add_flag("--quiet", o->spec.quiet, "no progress lines");
  app->add_flag("--verify_parameters,--verify-parameters", o->spec.verify_parameters,
                "distributed: check that every rank holds the same weights (at start and at each save)");
  app->add_option("--dump_batches,--dump-batches", o->spec.dump_batches,
                  "also write each training micro-batch (masks applied) to this folder as safetensors");
  for (const auto& s : train::training_arg_specs()) {
    std::string dashed = s.name;
    std::replace(dashed.begin(), dashed.end(), '_', '-');
    std::string names = "--" + s.name + (dashed != s.name ? ",--" + dashed : "");
    app->add_option_function<std::string>(names, [o, name = s.name](const std::string& v) { o->given[name] = v; },
                                          s.help)
        ->expected(0, 1);  // booleans may stand alone: --bf16 == --bf16 true
  }
  return {app, [o] {
            if (!o->config_file.empty()) apply_config_file(*o);
            for (const auto& [k, v] : o->given) o->spec.args.set(k, v);
            if (!o->recipe.empty()) train::load_recipe(o->recipe, o->spec);
            return train::run_pretraining(o->spec);
          }};
}

}  // namespace bertforge::cli
