#include "bertforge/train/training_args.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <tuple>
#include <variant>

#include "bertforge/util/error.h"
#include "bertforge/util/json_file.h"
#include "bertforge/util/messages.h"

namespace bertforge::train {

namespace {

using TA = TrainingArguments;
using Member = std::variant<std::string TA::*, bool TA::*, std::int64_t TA::*, double TA::*>;

struct Field {
  TrainingArgSpec spec;
  Member member;
  std::vector<std::string> choices;  // empty: any value
};

const std::vector<Field>& fields() {
  static const std::vector<Field> table{
      {{"output_dir", "folder for checkpoints, logs and plots"}, &TA::output_dir, {}},
      {{"overwrite_output_dir", "ignore checkpoints already in output_dir"}, &TA::overwrite_output_dir, {}},
      {{"per_device_train_batch_size", "sequences per step and device"}, &TA::per_device_train_batch_size, {}},
      {{"per_device_eval_batch_size", "sequences per evaluation batch"}, &TA::per_device_eval_batch_size, {}},
      {{"gradient_accumulation_steps", "micro-batches per optimizer step"}, &TA::gradient_accumulation_steps, {}},
      {{"learning_rate", "peak learning rate"}, &TA::learning_rate, {}},
      {{"weight_decay", "decoupled (adamw, lamb) or L2 (adam, sgd) decay"}, &TA::weight_decay, {}},
      {{"adam_beta1", "first-moment decay"}, &TA::adam_beta1, {}},
      {{"adam_beta2", "second-moment decay"}, &TA::adam_beta2, {}},
      {{"adam_epsilon", "denominator epsilon"}, &TA::adam_epsilon, {}},
      {{"max_grad_norm", "clip the global gradient norm (0: off)"}, &TA::max_grad_norm, {}},
      {{"num_train_epochs", "epochs (fractional allowed)"}, &TA::num_train_epochs, {}},
      {{"max_steps", "optimizer steps; > 0 overrides num_train_epochs"}, &TA::max_steps, {}},
      {{"lr_scheduler_type", "learning-rate schedule"}, &TA::lr_scheduler_type,
       {"linear", "cosine", "constant", "constant_with_warmup", "polynomial"}},
      {{"warmup_steps", "linear warm-up steps (< 1: fraction of total)"}, &TA::warmup_steps, {}},
      {{"warmup_ratio", "warm-up as a fraction of total steps"}, &TA::warmup_ratio, {}},
      {{"logging_strategy", "when to log"}, &TA::logging_strategy, {"no", "steps", "epoch"}},
      {{"logging_steps", "log every N steps (< 1: fraction of total)"}, &TA::logging_steps, {}},
      {{"logging_first_step", "also log the first step"}, &TA::logging_first_step, {}},
      {{"eval_strategy", "when to evaluate"}, &TA::eval_strategy, {"no", "steps", "epoch"}},
      {{"eval_steps", "evaluate every N steps (0: logging_steps)"}, &TA::eval_steps, {}},
      {{"save_strategy", "when to save a checkpoint"}, &TA::save_strategy, {"no", "steps", "epoch"}},
      {{"save_steps", "save every N steps (< 1: fraction of total)"}, &TA::save_steps, {}},
      {{"save_total_limit", "keep at most N checkpoints (0: all)"}, &TA::save_total_limit, {}},
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
      {{"ddp_timeout", "distributed: seconds to wait for another rank before failing"}, &TA::ddp_timeout, {}},
      {{"report_to", "where logs also go: none, all or tensorboard (output_dir/runs/)"}, &TA::report_to, {}},
      {{"nan_policy", "a step with a NaN/inf loss or gradient norm: stop, skip it, or roll back to the last "
                      "checkpoint with half the learning rate"}, &TA::nan_policy, {"stop", "skip", "rollback"}},
      {{"nan_patience", "skip: non-finite steps in a row, rollback: rollbacks without a new checkpoint, before "
                        "stopping"}, &TA::nan_patience, {}},
  };
  return table;
}

const Field& find_field(const std::string& key, const std::string& where) {
  std::string name = canonical_arg_name(key);
  for (const auto& f : fields())
    if (f.spec.name == name) return f;
  fail_at(where, 0, "unknown option '" + key + "' (see `bertforge pretrain --help` for the known ones)");
}

bool parse_bool(const std::string& key, std::string v) {
  std::transform(v.begin(), v.end(), v.begin(), ::tolower);
  if (v == "true" || v == "1" || v == "yes" || v.empty()) return true;
  if (v == "false" || v == "0" || v == "no") return false;
  throw UsageError("--" + key + ": expected true or false, got '" + v + "'");
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

std::string canonical_arg_name(const std::string& key) {
  std::string name = key;
  std::replace(name.begin(), name.end(), '-', '_');
  if (name == "evaluation_strategy") return "eval_strategy";
  return name;
}

const std::vector<TrainingArgSpec>& training_arg_specs() {
  static const std::vector<TrainingArgSpec> specs = [] {
    std::vector<TrainingArgSpec> out;
    for (const auto& f : fields()) out.push_back(f.spec);
    return out;
  }();
  return specs;
}

void TrainingArguments::set(const std::string& key, const std::string& value) {
  const Field& f = find_field(key, "command line");
  std::visit(
      [&](auto member) {
        using T = std::decay_t<decltype(this->*member)>;
        if constexpr (std::is_same_v<T, std::string>) this->*member = value;
        else if constexpr (std::is_same_v<T, bool>) this->*member = parse_bool(f.spec.name, value);
        else this->*member = parse_number<T>(f.spec.name, value);
      },
      f.member);
}

void TrainingArguments::update(const nlohmann::json& object, const std::string& where) {
  if (!object.is_object()) fail_at(where, 0, "expected a JSON object of training arguments");
  for (const auto& [key, value] : object.items()) {
    const Field& f = find_field(key, where);
    std::visit(
        [&](auto member) {
          using T = std::decay_t<decltype(this->*member)>;
          bool ok = std::is_same_v<T, std::string> ? (value.is_string() || value.is_null())
                    : std::is_same_v<T, bool>      ? value.is_boolean()
                    : std::is_same_v<T, double>    ? value.is_number()
                                                   : value.is_number_integer();
          // HF writes None for unset optional numbers and strings: keep our default then.
          if (value.is_null()) return;
          if (!ok) fail_at(where, 0, "option " + f.spec.name + ": wrong type " + std::string(value.type_name()));
          this->*member = value.get<T>();
        },
        f.member);
  }
}

void TrainingArguments::validate() const {
  const double inf = std::numeric_limits<double>::infinity();
  for (const auto& f : fields()) {
    // Every float option, ranged below or not: a nan or inf anywhere would train on silently.
    if (auto m = std::get_if<double TA::*>(&f.member)) check_option("--" + f.spec.name, this->**m, {-inf, inf});
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
      throw Error("option report_to: '" + target + "' is not supported (none, all or tensorboard)");
  // The ranges HF's TrainingArguments and torch.optim check (warmup_ratio in [0, 1], 0 <= beta < 1, ...).
  const Interval positive{0, inf, true}, non_negative{0, inf}, fraction{0, 1}, beta{0, 1, false, true};
  for (auto [name, value, allowed] : std::vector<std::tuple<const char*, double, Interval>>{
           {"per_device_train_batch_size", static_cast<double>(per_device_train_batch_size), positive},
           {"per_device_eval_batch_size", static_cast<double>(per_device_eval_batch_size), positive},
           {"gradient_accumulation_steps", static_cast<double>(gradient_accumulation_steps), positive},
           {"learning_rate", learning_rate, positive},
           {"weight_decay", weight_decay, non_negative},
           {"adam_beta1", adam_beta1, beta},
           {"adam_beta2", adam_beta2, beta},
           {"adam_epsilon", adam_epsilon, non_negative},
           {"max_grad_norm", max_grad_norm, non_negative},
           {"warmup_steps", warmup_steps, non_negative},
           {"warmup_ratio", warmup_ratio, fraction},
           {"eval_steps", eval_steps, non_negative},
           {"save_total_limit", static_cast<double>(save_total_limit), non_negative},
           {"ddp_timeout", static_cast<double>(ddp_timeout), positive},
           {"nan_patience", static_cast<double>(nan_patience), positive}})
    check_option("--" + std::string(name), value, allowed);
  if (max_steps <= 0) check_option("--num_train_epochs", num_train_epochs, positive);
  // A step interval of 0 would divide by zero or never fire: HF refuses it for the "steps" strategies.
  if (logging_strategy == "steps") check_option("--logging_steps", logging_steps, positive);
  if (save_strategy == "steps") check_option("--save_steps", save_steps, positive);
  if (eval_strategy == "steps" && eval_steps == 0) check_option("--logging_steps", logging_steps, positive);
  if (output_dir.empty()) throw UsageError("--output_dir: required (the folder for checkpoints and logs)");
  if (load_best_model_at_end && eval_strategy != save_strategy)
    throw UsageError("--load_best_model_at_end: needs eval_strategy equal to save_strategy (HF's rule)");
}

nlohmann::json TrainingArguments::to_json() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& f : fields())
    std::visit([&](auto member) { out[f.spec.name] = this->*member; }, f.member);
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

bool TrainingArguments::best_is_greater() const {
  if (!metric_for_best_model.empty() && greater_is_better) return true;
  std::string m = best_metric_key();
  return !metric_for_best_model.empty() && m.size() >= 4 && m.compare(m.size() - 4, 4, "loss") != 0;
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

std::int64_t interval_steps(double steps, std::int64_t total_steps) {
  return steps >= 1 ? static_cast<std::int64_t>(steps)
                    : std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(total_steps * steps)));
}

}  // namespace bertforge::train
