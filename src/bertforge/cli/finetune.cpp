// `bertforge finetune`: fine-tune a pre-trained model on a classification, regression or token task, with
// HF's example scripts' options (run_glue.py, run_classification.py, run_ner.py) and TrainingArguments names.
// Everything else lives in train/finetune.h.
#include <map>
#include <memory>

#include "bertforge/cli/commands.h"
#include "bertforge/cli/options.h"
#include "bertforge/train/finetune.h"

namespace bertforge::cli {

namespace {
struct FinetuneOptions {
  train::FinetuneSpec spec;
  std::string config_file;
  std::map<std::string, std::string> given;  // TrainingArguments keys from the command line
};

void add_data_options(CLI::App* app, train::FinetuneSpec& s) {
  const std::string data = "Data";
  app->add_option("--train_file", s.train_file, "training data: a GLUE TSV (with --task_name), CSV, TSV, JSONL, "
                                                "Parquet, HF save_to_disk folder, or CoNLL file")->group(data);
  app->add_option("--validation_file", s.validation_file, "evaluation data, in the same format")->group(data);
  app->add_option("--task_name", s.data.task_name, "a GLUE task: cola sst2 mrpc stsb qqp mnli qnli rte wnli "
                                                   "(its columns, labels and metrics)")->group(data);
  app->add_option("--text_column", s.data.text_column, "the text column (default: run_glue.py's choice)")->group(data);
  app->add_option("--text_pair_column", s.data.text_pair_column, "the second text column (\"-\": none)")->group(data);
  app->add_option("--label_column", s.data.label_column, "the label column (default label)")->group(data);
  app->add_option("--max_seq_length", s.data.max_seq_length, "tokens per row after truncation, longest first")
      ->capture_default_str()->check(CLI::Range(2, 1 << 20))->group(data);
  add_bool(app, "--token_classification", s.data.token_classification,
           "a token task (run_ner.py): words and tags per row, or a CoNLL file")->group(data);
  add_bool(app, "--label_all_tokens", s.data.label_all_tokens,
           "token tasks: every piece of a word carries its tag, not only the first")->group(data);
  add_bool(app, "--multi_label", s.data.multi_label, "CSV/TSV: the label is a comma-separated list")->group(data);
}

}  // namespace

Command add_finetune(CLI::App& parent) {
  auto* app = parent.add_subcommand("finetune", "fine-tune a pre-trained model: sequence classification, "
                                                "regression or token classification, with HF Trainer semantics");
  app->footer("Every option is also accepted with dashes (--learning-rate). Options also come from --config_file "
              "(JSON, the command line wins).");
  auto o = std::make_shared<FinetuneOptions>();
  const std::string run = "Run";
  app->add_option("--model", o->spec.model, "pre-trained model: HF folder, bertforge run or checkpoint; or a "
                                            "preset / config.json for fresh weights")->required()->group(run);
  add_tokenizer(app, o->spec.tokenizer, " (default: the model folder's)")->group(run);
  app->add_option("--config_file", o->config_file, "JSON file of training arguments (and model, train_file ...)")->group(run);
  add_device(app, o->spec.device)->group(run);
  add_bool(app, "--quiet", o->spec.quiet, "no progress lines")->group(run);
  app->add_option("--dump_batches", o->spec.dump_batches,
                  "also write each training micro-batch to this folder as safetensors")->group(run);
  add_data_options(app, o->spec);
  add_training_arguments(app, [o](const std::string& name, const std::string& v) { o->given[name] = v; });
  return {app, [o] {
            if (!o->config_file.empty())
              apply_training_config_file(o->config_file, {{"model", &o->spec.model}, {"tokenizer", &o->spec.tokenizer},
                                                          {"train_file", &o->spec.train_file},
                                                          {"validation_file", &o->spec.validation_file},
                                                          {"task_name", &o->spec.data.task_name},
                                                          {"device", &o->spec.device}}, o->spec.args);
            for (const auto& [k, v] : o->given) o->spec.args.set(k, v);
            return train::run_finetuning(o->spec);
          }};
}

}  // namespace bertforge::cli
