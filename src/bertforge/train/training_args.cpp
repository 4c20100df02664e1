#include "bertforge/train/training_args.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <variant>

#include "bertforge/util/error.h"
#include "bertforge/util/json_file.h"
#include "bertforge/util/messages.h"

namespace bertforge::train {

namespace {

using TA = TrainingArguments;
using Member = std::variant<std::string TA::*, bool TA::*, std::optional<bool> TA::*, std::int64_t TA::*, double TA::*>;

struct Field {
  TrainingArgSpec spec;
  Member member;
  std::vector<std::string> choices;  // empty: any value
  std::optional<Interval> range = std::nullopt;  // the numbers allowed (HF's TrainingArguments and torch.optim's checks)
};

const double kInf = std::numeric_limits<double>::infinity();
const Interval kPositive{0, kInf, true}, kNonNegative{0, kInf}, kFraction{0, 1}, kBeta{0, 1, false, true};

// One row per TrainingArguments key: the table is long because HF's TrainingArguments are many, and one list
// is what keeps the options, --help, the JSON file and validation in step.
const std::vector<Field>& fields() {
  static const std::vector<Field> table{
      {{"output_dir", "folder for checkpoints, logs and plots"}, &TA::output_dir, {}},
      {{"overwrite_output_dir", "ignore checkpoints already in output_dir"}, &TA::overwrite_output_dir, {}},
      {{"per_device_train_batch_size", "sequences per step and device"}, &TA::per_device_train_batch_size, {}, kPositive},
      {{"per_device_eval_batch_size", "sequences per evaluation batch"}, &TA::per_device_eval_batch_size, {}, kPositive},
      {{"gradient_accumulation_steps", "micro-batches per optimizer step"}, &TA::gradient_accumulation_steps, {}, kPositive},
      {{"learning_rate", "peak learning rate"}, &TA::learning_rate, {}, kPositive},
      {{"weight_decay", "decoupled (adamw, lamb) or L2 (adam, sgd) decay"}, &TA::weight_decay, {}, kNonNegative},
      {{"adam_beta1", "first-moment decay"}, &TA::adam_beta1, {}, kBeta},
      {{"adam_beta2", "second-moment decay"}, &TA::adam_beta2, {}, kBeta},
      {{"adam_epsilon", "denominator epsilon"}, &TA::adam_epsilon, {}, kNonNegative},
      {{"max_grad_norm", "clip the global gradient norm (0: off)"}, &TA::max_grad_norm, {}, kNonNegative},
      {{"num_train_epochs", "epochs (fractional allowed)"}, &TA::num_train_epochs, {}, kPositive},
      {{"max_steps", "optimizer steps; > 0 overrides num_train_epochs"}, &TA::max_steps, {}},
      {{"lr_scheduler_type", "learning-rate schedule"}, &TA::lr_scheduler_type, schedule_names()},
      {{"warmup_steps", "linear warm-up steps (< 1: fraction of total)"}, &TA::warmup_steps, {}, kNonNegative},
      {{"warmup_ratio", "warm-up as a fraction of total steps"}, &TA::warmup_ratio, {}, kFraction},
      {{"logging_strategy", "when to log"}, &TA::logging_strategy, {"no", "steps", "epoch"}},
      {{"logging_steps", "log every N steps (< 1: fraction of total)"}, &TA::logging_steps, {}, kPositive},
      {{"logging_first_step", "also log the first step"}, &TA::logging_first_step, {}},
      {{"logging_nan_inf_filter", "log a NaN/inf step's loss as the mean of the window so far (HF's filter)"},
       &TA::logging_nan_inf_filter, {}},
      {{"eval_strategy", "when to evaluate"}, &TA::eval_strategy, {"no", "steps", "epoch"}},
      {{"eval_steps", "evaluate every N steps (0: logging_steps)"}, &TA::eval_steps, {}, kNonNegative},
      {{"eval_delay", "no evaluation before this many steps (eval_strategy steps) or epochs (epoch)"},
       &TA::eval_delay, {}, kNonNegative},
      {{"eval_on_start", "evaluate once before training starts"}, &TA::eval_on_start, {}},
      {{"save_strategy", "when to save a checkpoint"}, &TA::save_strategy, {"no", "steps", "epoch"}},
      {{"save_steps", "save every N steps (< 1: fraction of total)"}, &TA::save_steps, {}, kPositive},
      {{"save_total_limit", "keep at most N checkpoints (0: all)"}, &TA::save_total_limit, {}, kNonNegative},
      {{"save_only_model", "checkpoints hold the model only: smaller, but no resume from them"},
       &TA::save_only_model, {}},
      {{"save_on_each_node", "multi-node: the first process of every node writes the checkpoints (no shared disk)"},
       &TA::save_on_each_node, {}},
      {{"load_best_model_at_end", "keep the best checkpoint and load it at the end"}, &TA::load_best_model_at_end, {}},
      {{"metric_for_best_model", "metric naming the best checkpoint (default loss)"}, &TA::metric_for_best_model, {}},
      {{"greater_is_better", "a larger metric is better"}, &TA::greater_is_better, {}},
      {{"seed", "seed for initialisation, shuffling and masking"}, &TA::seed, {}},
      {{"bf16", "bfloat16 autocast"}, &TA::bf16, {}},
      {{"resume_from_checkpoint", "checkpoint folder, or 'latest' for output_dir's newest"},
       &TA::resume_from_checkpoint, {}},
      {{"dataloader_drop_last", "drop the last incomplete batch"}, &TA::dataloader_drop_last, {}},
      {{"dataloader_pin_memory", "page-locked batches so the copy to the GPU overlaps the step (CUDA only)"},
       &TA::dataloader_pin_memory, {}},
      {{"train_sampling_strategy", "training order: shuffled, in order, or shuffled and grouped by length"},
       &TA::train_sampling_strategy, {"random", "sequential", "group_by_length"}},
      {{"optim", "optimizer (the *_torch_fused kinds: one fused kernel per parameter group)"}, &TA::optim,
       {"adamw_torch_fused", "adamw_torch", "adam_torch_fused", "adam", "lamb", "sgd"}},
      {{"average_tokens_across_devices", "normalise the MLM loss by the labelled tokens of the whole step"},
       &TA::average_tokens_across_devices, {}},
      {{"ddp_timeout", "distributed: seconds to wait for another rank before failing"}, &TA::ddp_timeout, {}, kPositive},
      {{"report_to", "where logs also go: none, all or tensorboard (output_dir/runs/)"}, &TA::report_to, {}},
      {{"nan_policy", "a step with a NaN/inf loss or gradient norm: stop, skip it, or roll back to the last "
                      "checkpoint with half the learning rate"}, &TA::nan_policy, {"stop", "skip", "rollback"}},
      {{"nan_patience", "skip: non-finite steps in a row, rollback: rollbacks without a new checkpoint, before "
                        "stopping"}, &TA::nan_patience, {}, kPositive},
      {{"mlm_probability", "share of tokens selected for masked-language modelling"}, &TA::mlm_probability, {}, kFraction},
      {{"mask_replace_prob", "of the selected tokens, the share replaced by [MASK]"}, &TA::mask_replace_prob, {}, kFraction},
      {{"random_replace_prob", "of the selected tokens, the share replaced by a random token (the rest stay)"},
       &TA::random_replace_prob, {}, kFraction},
      {{"whole_word_mask", "mask whole words: a token and its ## pieces (each CJK character is a word)"},
       &TA::whole_word_mask, {}},
      {{"pad_to_multiple_of", "pad each batch to a multiple of N tokens (0: to its longest sequence)"},
       &TA::pad_to_multiple_of, {}, kNonNegative},
  };
  return table;
}

// The sections of HF's TrainingArguments documentation (transformers 5.x), in its order; the collator's
// arguments, which HF documents on DataCollatorForLanguageModeling, last. A key listed nowhere is "Other".
const std::vector<std::pair<std::string, std::vector<std::string>>>& groups() {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> g{
      {"Output", {"output_dir", "overwrite_output_dir"}},
      {"Training Duration and Batch Size", {"per_device_train_batch_size", "num_train_epochs", "max_steps"}},
      {"Learning Rate & Scheduler", {"learning_rate", "lr_scheduler_type", "warmup_steps", "warmup_ratio"}},
      {"Optimizer", {"optim", "weight_decay", "adam_beta1", "adam_beta2", "adam_epsilon"}},
      {"Regularization & Training Stability",
       {"gradient_accumulation_steps", "average_tokens_across_devices", "max_grad_norm", "nan_policy", "nan_patience"}},
      {"Mixed Precision Training", {"bf16"}},
      {"Logging & Monitoring Training",
       {"logging_strategy", "logging_steps", "logging_first_step", "logging_nan_inf_filter"}},
      {"Experiment Tracking Integration", {"report_to"}},
      {"Evaluation", {"eval_strategy", "eval_steps", "eval_delay", "eval_on_start", "per_device_eval_batch_size"}},
      {"Checkpointing & Saving",
       {"save_strategy", "save_steps", "save_total_limit", "save_only_model", "save_on_each_node"}},
      {"Best Model Tracking", {"load_best_model_at_end", "metric_for_best_model", "greater_is_better"}},
      {"Resuming Training", {"resume_from_checkpoint"}},
      {"Reproducibility", {"seed"}},
      {"Dataloader", {"dataloader_drop_last", "dataloader_pin_memory", "train_sampling_strategy"}},
      {"DDP (DistributedDataParallel)", {"ddp_timeout"}},
      {"Masking (DataCollatorForLanguageModeling)",
       {"mlm_probability", "mask_replace_prob", "random_replace_prob", "whole_word_mask", "pad_to_multiple_of"}},
  };
  return g;
}

const Field& find_field(const std::string& key, const std::string& where) {
  std::string name = canonical_arg_name(key);
  for (const auto& f : fields())
    if (f.spec.name == name) return f;
  fail_at(where, 0, "unknown option '" + key + "' (see `bertforge pretrain --help` for the known ones)");
}


template <typename T>
T parse_number(const std::string& key, const std::string& v) {
  std::size_t used = 0;
  try {
    T out = std::is_same_v<T, double> ? static_cast<T>(std::stod(v, &used)) : static_cast<T>(std::stoll(v, &used));
    if (used == v.size()) return out;
  } catch (const std::exception&) {
  }
  throw UsageError("--" + key + ": expected a number, got '" + v + "'");
}

// report_to's list: HF takes a list of names; here they are separated by commas or spaces.
std::vector<std::string> report_targets(const std::string& value) {
  std::vector<std::string> out;
  std::string name;
  for (char c : value + ",") {
    if (c == ',' || c == ' ') {
      if (!name.empty()) out.push_back(name);
      name.clear();
    } else {
      name += c;
    }
  }
  return out;
}

}  // namespace

bool parse_bool_arg(const std::string& key, std::string v) {
  std::transform(v.begin(), v.end(), v.begin(), ::tolower);
  if (v == "true" || v == "1" || v == "yes" || v.empty()) return true;
  if (v == "false" || v == "0" || v == "no") return false;
  throw UsageError("--" + key + ": expected true or false, got '" + v + "'");
}

std::string canonical_arg_name(const std::string& key) {
  std::string name = key;
  std::replace(name.begin(), name.end(), '-', '_');
  if (name == "evaluation_strategy") return "eval_strategy";
  return name;
}

const std::vector<TrainingArgSpec>& training_arg_specs() {
  // Group by group, in the order of HF's documentation (--help lists them so); "Other" last.
  static const std::vector<TrainingArgSpec> specs = [] {
    std::vector<TrainingArgSpec> out;
    for (const auto& g : groups())
      for (const auto& key : g.second)
        for (const auto& f : fields())
          if (f.spec.name == key) out.push_back(f.spec);
    for (const auto& f : fields())
      if (training_arg_help(f.spec.name).group == "Other") out.push_back(f.spec);
    return out;
  }();
  return specs;
}

TrainingArgHelp training_arg_help(const std::string& name) {
  const Field& f = find_field(name, "--help");
  TrainingArgHelp h{"Other", "", "", f.range ? allowed_text(*f.range) : "", f.choices};
  for (const auto& [group, keys] : groups())
    if (std::find(keys.begin(), keys.end(), f.spec.name) != keys.end()) h.group = group;
  const nlohmann::json value = TrainingArguments().to_json()[f.spec.name];
  std::visit(
      [&](auto member) {
        using T = std::decay_t<decltype(TrainingArguments().*member)>;
        h.type = std::is_same_v<T, std::string> ? "TEXT"
                 : std::is_same_v<T, double>    ? "FLOAT"
                 : std::is_same_v<T, std::int64_t> ? "INT"
                                                   : "BOOL";
      },
      f.member);
  if (!value.is_null()) h.default_value = value.is_string() ? value.get<std::string>() : value.dump();
  return h;
}

void TrainingArguments::set(const std::string& key, const std::string& value) {
  const Field& f = find_field(key, "command line");
  std::visit(
      [&](auto member) {
        using T = std::decay_t<decltype(this->*member)>;
        if constexpr (std::is_same_v<T, std::string>) this->*member = value;
        else if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::optional<bool>>)
          this->*member = parse_bool_arg(f.spec.name, value);
        else this->*member = parse_number<T>(f.spec.name, value);
      },
      f.member);
}

void TrainingArguments::update(const nlohmann::json& object, const std::string& where) {
  if (!object.is_object()) fail_at(where, 0, "expected a JSON object of training arguments");
  for (const auto& item : object.items()) {
    const nlohmann::json& value = item.value();  // a plain reference: clang cannot capture a structured binding
    const Field& f = find_field(item.key(), where);
    std::visit(
        [&](auto member) {
          using T = std::decay_t<decltype(this->*member)>;
          bool ok = std::is_same_v<T, std::string> ? (value.is_string() || value.is_null())
                    : std::is_same_v<T, bool> || std::is_same_v<T, std::optional<bool>> ? value.is_boolean()
                    : std::is_same_v<T, double>    ? value.is_number()
                                                   : value.is_number_integer();
          // HF writes None for unset optional numbers and strings: keep our default then.
          if (value.is_null()) return;
          if (!ok) fail_at(where, 0, "option " + f.spec.name + ": wrong type " + std::string(value.type_name()));
          if constexpr (std::is_same_v<T, std::optional<bool>>) this->*member = value.get<bool>();
          else this->*member = value.get<T>();
        },
        f.member);
  }
}

void TrainingArguments::validate() const {
  for (const auto& f : fields()) {
    // Every float option, ranged below or not: a nan or inf anywhere would train on silently.
    if (auto m = std::get_if<double TA::*>(&f.member)) check_option("--" + f.spec.name, this->**m, {-kInf, kInf});
    if (f.choices.empty()) continue;
    const std::string& v = this->*std::get<std::string TA::*>(f.member);
    if (std::find(f.choices.begin(), f.choices.end(), v) == f.choices.end()) {
      std::string all;
      for (const auto& c : f.choices) all += (all.empty() ? "" : ", ") + c;
      throw UsageError("--" + f.spec.name + ": '" + v + "' is not one of " + all);
    }
  }
  for (const std::string& target : report_targets(report_to))
    if (target != "none" && target != "all" && target != "tensorboard")
      throw UsageError("--report_to: '" + target + "' is not supported (none, all or tensorboard)");
  // Some numbers count only in one mode, as in HF: the epochs without max_steps, a step interval with its
  // "steps" strategy (eval_steps 0 means logging_steps; an interval of 0 would divide by zero or never fire).
  auto applies = [&](const std::string& key) {
    if (key == "num_train_epochs") return max_steps <= 0;
    if (key == "logging_steps") return logging_strategy == "steps" || (eval_strategy == "steps" && eval_steps == 0);
    if (key == "save_steps") return save_strategy == "steps";
    return true;
  };
  for (const auto& f : fields()) {
    if (!f.range || !applies(f.spec.name)) continue;
    std::visit(
        [&](auto member) {
          using T = std::decay_t<decltype(this->*member)>;
          if constexpr (std::is_same_v<T, double> || std::is_same_v<T, std::int64_t>)
            check_option("--" + f.spec.name, static_cast<double>(this->*member), *f.range);
        },
        f.member);
  }
  if (mask_replace_prob + random_replace_prob > 1)
    throw UsageError("--random_replace_prob: mask_replace_prob + random_replace_prob must not exceed 1 (HF's rule)");
  if (output_dir.empty()) throw UsageError("--output_dir: required (the folder for checkpoints and logs)");
  if (load_best_model_at_end && eval_strategy != save_strategy)
    throw UsageError("--load_best_model_at_end: needs eval_strategy equal to save_strategy (HF's rule)");
  if (load_best_model_at_end && save_strategy == "steps") {
    const double save = save_steps, eval = eval_steps > 0 ? eval_steps : logging_steps;
    if (std::fmod(save, eval) != 0 && ((save < 1) != (eval < 1) || std::fmod(save * 1e6, eval * 1e6) != 0))
      throw UsageError("--load_best_model_at_end: needs save_steps a multiple of eval_steps (HF's rule)");
  }
  if (save_only_model && nan_policy == "rollback")
    throw UsageError("--nan_policy: rollback needs whole checkpoints (it cannot be used with --save_only_model)");
}

TrainingChoices TrainingArguments::choices() const {
  auto strategy = [](const std::string& s) { return s == "epoch" ? Strategy::epoch : s == "steps" ? Strategy::steps : Strategy::no; };
  TrainingChoices c;
  c.logging = strategy(logging_strategy);
  c.eval = strategy(eval_strategy);
  c.save = strategy(save_strategy);
  c.nan = nan_policy == "skip" ? NanPolicy::skip : nan_policy == "rollback" ? NanPolicy::rollback : NanPolicy::stop;
  c.schedule = schedule_type(lr_scheduler_type);
  return c;
}

nlohmann::json TrainingArguments::to_json() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& f : fields())
    std::visit(
        [&](auto member) {
          const auto& v = this->*member;
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::optional<bool>>)
            out[f.spec.name] = v ? nlohmann::json(*v) : nlohmann::json(nullptr);  // HF writes None
          else out[f.spec.name] = v;
        },
        f.member);
  return out;
}

TrainingArguments TrainingArguments::from_json_file(const std::string& path) {
  TrainingArguments args;
  args.update(read_json_file(path, "training arguments"), path);
  return args;
}

std::string TrainingArguments::best_metric_key() const {
  std::string m = metric_for_best_model.empty() ? "loss" : metric_for_best_model;
  return m.rfind("eval_", 0) == 0 ? m : "eval_" + m;
}

// HF's __post_init__ infers the direction only when greater_is_better is None.
bool TrainingArguments::best_is_greater() const {
  if (greater_is_better) return *greater_is_better;
  std::string m = best_metric_key();
  return m.size() < 4 || m.compare(m.size() - 4, 4, "loss") != 0;
}

std::int64_t TrainingArguments::warmup_for(std::int64_t total_steps) const {
  double w = warmup_ratio > 0 ? warmup_ratio : warmup_steps;
  return w >= 1 ? static_cast<std::int64_t>(w) : static_cast<std::int64_t>(std::ceil(total_steps * w));
}

bool TrainingArguments::reports_to_tensorboard() const {
  for (const std::string& target : report_targets(report_to))
    if (target == "all" || target == "tensorboard") return true;
  return false;
}

std::int64_t TrainingArguments::steps_per_epoch(std::int64_t batches_per_epoch) const {
  return std::max<std::int64_t>(1, (batches_per_epoch + gradient_accumulation_steps - 1) / gradient_accumulation_steps);
}

std::int64_t TrainingArguments::total_steps(std::int64_t steps_per_epoch) const {
  return max_steps > 0 ? max_steps : static_cast<std::int64_t>(std::ceil(num_train_epochs * steps_per_epoch));
}

const std::vector<std::string>& TrainingArguments::masking_keys() {
  static const std::vector<std::string> keys{"mlm_probability", "mask_replace_prob", "random_replace_prob",
                                             "whole_word_mask", "pad_to_multiple_of"};
  return keys;
}

std::int64_t interval_steps(double steps, std::int64_t total_steps) {
  return steps >= 1 ? static_cast<std::int64_t>(steps)
                    : std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(total_steps * steps)));
}

}  // namespace bertforge::train
