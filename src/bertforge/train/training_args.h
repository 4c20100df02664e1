// TrainingArguments: the Hugging Face TrainingArguments that `bertforge pretrain` understands, with HF's
// names and HF's defaults (transformers 4.x/5.x; where the two differ, the 4.x spelling is also accepted:
// overwrite_output_dir, warmup_ratio, evaluation_strategy).
//
// One table (training_arg_specs) drives the command line, JSON files and the JSON written into checkpoints,
// so a key means the same thing everywhere. Keys may use dashes or underscores ("learning-rate" ==
// "learning_rate"). An unknown key, a value of the wrong type or an unsupported choice throws Error naming
// the key (and the file, for JSON files).
//
// Step-like settings follow HF: logging/eval/save_steps below 1 are a fraction of the total steps;
// warmup_steps below 1 is a fraction too (HF 5.x), and warmup_ratio > 0 wins when given (HF 4.x).
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bertforge/train/schedule.h"

namespace bertforge::train {

// The choices the Trainer acts on at every step, typed once by TrainingArguments::choices(); the strings stay
// at the edges (command line, JSON files, checkpoints).
enum class Strategy { no, steps, epoch };     // HF's IntervalStrategy (logging, evaluation, saving)
enum class NanPolicy { stop, skip, rollback };
struct TrainingChoices {
  Strategy logging = Strategy::steps, eval = Strategy::no, save = Strategy::steps;
  NanPolicy nan = NanPolicy::stop;
  ScheduleType schedule = ScheduleType::linear;
};

struct TrainingArguments {
  std::string output_dir;                       // where checkpoints, logs and the plot go
  bool overwrite_output_dir = false;            // start afresh even if output_dir holds checkpoints
  std::int64_t per_device_train_batch_size = 8;
  std::int64_t per_device_eval_batch_size = 8;
  std::int64_t gradient_accumulation_steps = 1;
  double learning_rate = 5e-5;
  double weight_decay = 0.0;
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_epsilon = 1e-8;
  double max_grad_norm = 1.0;                   // 0 disables clipping
  double num_train_epochs = 3.0;
  std::int64_t max_steps = -1;                  // > 0 overrides num_train_epochs
  std::string lr_scheduler_type = "linear";     // schedule.h's types
  double warmup_steps = 0;                      // < 1: fraction of the total steps
  double warmup_ratio = 0;
  std::string logging_strategy = "steps";       // no steps epoch
  double logging_steps = 500;
  bool logging_first_step = false;
  bool logging_nan_inf_filter = true;           // a non-finite step's loss logged as the window's mean so far
  std::string eval_strategy = "no";             // no steps epoch
  double eval_steps = 0;                        // 0 (HF: None): same as logging_steps
  double eval_delay = 0;                        // no evaluation before this step (steps) or epoch (epoch)
  bool eval_on_start = false;                   // evaluate once before the first step (a sanity check)
  std::string save_strategy = "steps";          // no steps epoch
  double save_steps = 500;
  std::int64_t save_total_limit = 0;            // 0 (HF: None): keep every checkpoint
  bool save_only_model = false;                 // checkpoints without optimizer, RNG and data position: no resume
  bool save_on_each_node = false;               // each node's first process writes checkpoints (no shared disk)
  bool load_best_model_at_end = false;
  std::string metric_for_best_model;            // empty: "loss" when load_best_model_at_end
  std::optional<bool> greater_is_better;        // unset (HF: None): True iff the metric does not end in "loss"
  std::int64_t seed = 42;
  bool bf16 = false;                            // autocast matmuls to bfloat16
  std::string resume_from_checkpoint;           // a checkpoint folder, or "latest"/"true" for output_dir's
  bool dataloader_drop_last = false;
  bool dataloader_pin_memory = true;            // page-locked batches for CUDA runs (ignored on the CPU)
  std::string train_sampling_strategy = "random";  // random, sequential, group_by_length (HF 5's values)
  std::string optim = "adamw_torch_fused";      // HF 5's default; see train/optimizer.h for every kind
  // Distributed runs and accumulation: the MLM loss of a step is divided by the labelled tokens of the whole
  // step (every micro-batch on every rank), the NSP loss by its sequences, so P processes x batch B train
  // exactly as 1 x (P x B). False: each micro-batch's own mean, averaged (DDP without the count).
  bool average_tokens_across_devices = true;
  std::int64_t ddp_timeout = 1800;              // seconds a rank waits for the others before failing
  std::string report_to = "none";               // none, all or tensorboard (comma-separated list allowed)
  // A step whose loss or gradient norm is NaN or infinite (see trainer.h): stop (exit naming the step, nothing
  // non-finite saved), skip (the update is not applied), or rollback (to the last checkpoint, lr x 0.5).
  std::string nan_policy = "stop";
  std::int64_t nan_patience = 5;                // skip: steps in a row; rollback: rollbacks per checkpoint
  // HF DataCollatorForLanguageModeling's arguments (run_mlm.py reads mlm_probability from the same JSON
  // file as the TrainingArguments; saved with every checkpoint and checked on resume).
  double mlm_probability = 0.15;                // share of tokens (whole_word_mask: of the sequence) masked
  double mask_replace_prob = 0.8;               // of the masked, replaced by [MASK]
  double random_replace_prob = 0.1;             // of the masked, replaced by a random id; the rest unchanged
  bool whole_word_mask = false;                 // a word and its ## pieces masked together (needs the tokenizer)
  std::int64_t pad_to_multiple_of = 0;          // 0 (HF: None): pad to the batch's longest

  // Sets one option from its textual form (command line). Throws Error for unknown keys or bad values.
  void set(const std::string& key, const std::string& value);
  // Sets every key of a JSON object; `where` names the source in errors (a file path).
  void update(const nlohmann::json& object, const std::string& where);
  // Checks choices, each number's range (training_arg_help's `range`) and cross-field rules; throws
  // UsageError naming the option and what it allows.
  void validate() const;
  TrainingChoices choices() const;              // the typed choices; validate() first
  nlohmann::json to_json() const;
  static TrainingArguments from_json_file(const std::string& path);

  // HF's derived values.
  std::string best_metric_key() const;          // "eval_" + metric, as HF compares it
  bool best_is_greater() const;
  std::int64_t warmup_for(std::int64_t total_steps) const;
  bool reports_to_tensorboard() const;          // report_to names tensorboard or all (HF: all installed)
  // HF's counts: optimizer steps per epoch (ceil(batches / accumulation): an epoch's last step takes the
  // batches left), and the steps of the run (max_steps, else ceil(num_train_epochs x steps per epoch)).
  std::int64_t steps_per_epoch(std::int64_t batches_per_epoch) const;
  std::int64_t total_steps(std::int64_t steps_per_epoch) const;
  // The keys that decide which tokens are masked and how the batch is padded (a resume must not change them).
  static const std::vector<std::string>& masking_keys();
};

struct TrainingArgSpec {
  std::string name;  // with underscores
  std::string help;
};
// Every key, for the command line to declare options from.
const std::vector<TrainingArgSpec>& training_arg_specs();

// What --help shows of one key: HF's documentation section, the kind of value (bool, int, float, text), the
// default as the command line spells it ("" when unset, HF's None), the numbers validate() allows ("> 0",
// "in [0, 1)"; "" for any) and the allowed values (empty: any).
struct TrainingArgHelp {
  std::string group, type, default_value, range;
  std::vector<std::string> choices;
};
TrainingArgHelp training_arg_help(const std::string& name);

// "learning-rate" -> "learning_rate"; also maps HF's older aliases (evaluation_strategy) to current names.
std::string canonical_arg_name(const std::string& key);

// The command line's booleans: true/1/yes, false/0/no, and "" (the option alone) for true; else Error naming key.
bool parse_bool_arg(const std::string& key, std::string value);

// HF's interval: steps < 1 are a fraction of total (rounded up), else the count itself.
std::int64_t interval_steps(double steps, std::int64_t total_steps);

}  // namespace bertforge::train
