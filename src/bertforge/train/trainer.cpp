#include "bertforge/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <sstream>

#include "bertforge/train/checkpoint.h"
#include "bertforge/eval/evaluation.h"
#include "bertforge/train/stop_signal.h"
#include "bertforge/util/error.h"

namespace fs = std::filesystem;

namespace bertforge::train {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// BERTFORGE_FAULT_NONFINITE_STEPS=3,7 (fault tests of nan_policy).
std::vector<std::int64_t> steps_to_fault() {
  std::vector<std::int64_t> steps;
  const char* env = std::getenv("BERTFORGE_FAULT_NONFINITE_STEPS");
  std::stringstream list(env ? env : "");
  for (std::string s; std::getline(list, s, ',');)
    if (!s.empty()) steps.push_back(std::stoll(s));
  return steps;
}

constexpr double kRollbackLrFactor = 0.5;
}  // namespace

OptimizerOptions optimizer_options(const TrainingArguments& a) {
  OptimizerOptions o;
  o.kind = a.optim;
  o.beta1 = a.adam_beta1;
  o.beta2 = a.adam_beta2;
  o.eps = a.adam_epsilon;
  o.weight_decay = a.weight_decay;
  return o;
}

Trainer::Trainer(TrainingArguments args, TrainerInputs inputs)
    : args_(std::move(args)),
      in_(std::move(inputs)),
      // the vocabulary projection only where a label is: same loss and gradients
      mode_(in_.model, /*training=*/true, /*sparse_mlm=*/true),
      inject_nonfinite_(steps_to_fault()) {
  if (!in_.world) own_world_ = dist::single_process(), in_.world = own_world_.get();
  in_.model->to(in_.device);
  for (const auto& p : in_.model->named_parameters()) {
    params_.push_back({p.key(), p.value()});
    // HF's floating_point_ops: 6 x tokens x parameters outside the embeddings.
    if (p.key().find("embeddings") == std::string::npos) flos_per_token_ += 6.0 * static_cast<double>(p.value().numel());
  }
  optimizer_ = std::make_unique<Optimizer>(params_, optimizer_options(args_));

  std::int64_t batches = static_cast<std::int64_t>(in_.train->batches_per_epoch());
  if (batches == 0) throw Error("training data: no batch (fewer sequences than one batch with dataloader_drop_last?)");
  steps_per_epoch_ = args_.steps_per_epoch(batches);
  max_steps_ = args_.total_steps(steps_per_epoch_);
  schedule_ = {args_.lr_scheduler_type, args_.learning_rate, args_.warmup_for(max_steps_), max_steps_};

  state_.global_step = in_.phase_start_step;
  state_.max_steps = in_.phase_start_step + max_steps_;
  state_.logging_steps = interval_steps(args_.logging_steps, max_steps_);
  state_.eval_steps = interval_steps(args_.eval_steps > 0 ? args_.eval_steps : args_.logging_steps, max_steps_);
  state_.save_steps = interval_steps(args_.save_steps, max_steps_);
  state_.train_batch_size = args_.per_device_train_batch_size;
  state_.num_train_epochs = std::ceil(static_cast<double>(max_steps_) / steps_per_epoch_);

  std::error_code ec;
  std::filesystem::create_directories(args_.output_dir, ec);
  if (ec) fail_at(args_.output_dir, 0, "cannot create output_dir: " + ec.message());
  log_ = std::make_unique<RunLog>(args_.output_dir, state_, in_.quiet || !in_.world->is_main(), in_.world->is_main(),
                                  args_.reports_to_tensorboard() ? tensorboard_logging_dir(args_.output_dir) : "");
}

TrainOutcome Trainer::train() {
  StopSignal stop;
  auto start = Clock::now();
  log_->message("training arguments: " + args_.to_json().dump());
  log_->message("training: " + std::to_string(max_steps_ - local_step()) + " of " + std::to_string(max_steps_) +
                " steps left, " + std::to_string(steps_per_epoch_) + " steps per epoch, optim " + args_.optim);
  // Every rank starts from rank 0's weights (fresh or resumed); gradient buckets start during backward.
  in_.world->attach_parameters(in_.model->parameters());
  verify_parameters();
  bool saved = false;
  while (local_step() < max_steps_) {
    StepResult r = train_step();
    if (!r.finite && args_.nan_policy == "rollback") {
      roll_back(r);
      continue;
    }
    if (!r.finite) skip_or_stop(r);
    else nonfinite_in_a_row_ = 0;
    bool last = r.step == max_steps_;
    log_train(r);
    if (args_.eval_strategy != "no" && in_.eval && due(args_.eval_strategy, state_.eval_steps, r))
      track_best(evaluate());
    saved = args_.save_strategy != "no" && (due(args_.save_strategy, state_.save_steps, r) || last);
    if (saved) save_checkpoint();
    if (r.stop && !last) {
      if (!saved) save_checkpoint();
      log_->message("stopped by signal " + std::to_string(StopSignal::signal_number()) + " at step " +
                    std::to_string(state_.global_step) + "; resume with --resume_from_checkpoint latest");
      return TrainOutcome::Stopped;
    }
  }
  finish(seconds_since(start));
  return TrainOutcome::Finished;
}

// One optimizer step: gradient_accumulation_steps micro-batches, then the update.
Trainer::StepResult Trainer::train_step() {
  StepResult r;
  const std::int64_t step = local_step();
  double lr = schedule_.lr_at(step) * lr_scale_;
  optimizer_->zero_grad();
  // The step's micro-batches come first, as HF's get_batch_samples: their labels set the loss weights.
  auto waited = Clock::now();
  std::vector<data::Batch> micro;
  for (std::int64_t i = 0; i < args_.gradient_accumulation_steps; ++i) micro.push_back(next_batch(r.epoch_ended));
  r.stats.wait_s = seconds_since(waited);
  std::vector<LossWeight> weights = loss_weights(micro);
  const auto fault = std::find(inject_nonfinite_.begin(), inject_nonfinite_.end(), state_.global_step + 1);
  // Loss and token counts stay tensors until the step has been queued: no host synchronisation per
  // micro-batch. The loss sums in float64, as the host-side sum it replaces did.
  at::Tensor loss = at::zeros({}, at::TensorOptions(in_.device).dtype(at::kDouble));
  at::Tensor tokens = at::zeros({}, at::TensorOptions(in_.device).dtype(at::kLong));
  // The loss's two terms (mlm_loss, nsp_loss in the log), weighted as in the loss.
  at::Tensor mlm = at::zeros({}, at::TensorOptions(in_.device).dtype(at::kDouble)), nsp = at::zeros_like(mlm);
  double flos = 0, sequences = 0;
  for (std::size_t i = 0; i < micro.size(); ++i) {
    auto out = eval::forward_batch(in_.model, micro[i], in_.device, args_.bf16);
    in_.world->sync_next_backward(i + 1 == micro.size());  // no all-reduce before the last micro-batch
    at::Tensor l = weighted_loss(out, weights[i]);
    if (l.defined() && i == 0 && fault != inject_nonfinite_.end()) l = l * std::numeric_limits<double>::quiet_NaN();
    if (l.defined()) {
      l.backward();
      loss.add_(l.detach());
    }
    tokens.add_(micro[i].attention_mask.to(in_.device).sum());
    if (weights[i].mlm > 0) mlm.add_(out.mlm_loss.detach().to(at::kDouble) * weights[i].mlm);
    if (out.nsp_loss.defined()) {
      nsp.add_(out.nsp_loss.detach().to(at::kDouble) * weights[i].nsp);
      r.has_nsp = true;
    }
    sequences += static_cast<double>(micro[i].input_ids.size(0));
    flos += flos_per_token_ * static_cast<double>(micro[i].input_ids.numel());
  }
  if (fault != inject_nonfinite_.end()) inject_nonfinite_.erase(fault);
  sync_gradients();
  // The gradient norm also when nothing clips: the non-finite test needs it.
  at::Tensor norm = args_.max_grad_norm > 0 ? clip_grad_norm(in_.model->parameters(), args_.max_grad_norm)
                                            : grad_norm(in_.model->parameters());
  if (args_.nan_policy == "skip") {  // the update must not happen: decide now (a host read), alike on every rank
    double bad = (at::isfinite(loss) & at::isfinite(norm)).item<bool>() ? 0 : 1;
    if (in_.world->size() > 1) bad = in_.world->sum({bad})[0];
    r.applied = bad == 0;
  }
  if (r.applied) optimizer_->step(lr);
  ++state_.global_step;

  // Totals over the ranks, as HF reports them: the step's loss, samples, tokens and floating-point operations;
  // and a stop signal seen by any rank, so that all stop after the same step. The one read per step, the
  // gradient norm with it.
  at::Tensor local = at::stack({loss, tokens.to(at::kDouble), mlm, nsp, norm.to(loss.device(), at::kDouble)}).cpu();
  r.grad_norm = local[4].item<double>();
  auto total = in_.world->sum({local[0].item<double>(), sequences, local[1].item<double>(), flos,
                               StopSignal::requested() ? 1.0 : 0.0, local[2].item<double>(), local[3].item<double>()});
  r.stop = total[4] > 0;
  r.loss = total[0] / static_cast<double>(in_.world->size());
  r.mlm_loss = total[5] / static_cast<double>(in_.world->size());
  r.nsp_loss = total[6] / static_cast<double>(in_.world->size());
  // The one non-finite test: a NaN on any rank makes the summed loss NaN; the gradient norm is global.
  r.finite = r.applied && std::isfinite(r.loss) && std::isfinite(r.grad_norm);
  r.stats.sequences = std::llround(total[1]);
  r.stats.tokens = std::llround(total[2]);
  state_.total_flos += total[3];
  r.step = r.stats.step = step + 1;
  r.stats.total = max_steps_;
  r.stats.loss = r.loss;
  r.stats.lr = lr;  // the rate this step used: HF 5 reads it before the scheduler steps
  auto pos = in_.train->position();
  state_.epoch = static_cast<double>(pos.epoch) +
                 static_cast<double>(pos.batch) / static_cast<double>(in_.train->batches_per_epoch());
  return r;
}

std::string Trainer::nonfinite_what(const StepResult& r) const {
  std::string what;
  auto add = [&](const char* name, double v) {
    if (!std::isfinite(v)) what += (what.empty() ? "" : " and ") + std::string(name) + " is " + (std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
  };
  add("the loss", r.loss);
  add("the gradient norm", r.grad_norm);
  return "step " + std::to_string(state_.global_step) + ": " + what;
}

void Trainer::skip_or_stop(const StepResult& r) {
  const auto last = last_checkpoint(args_.output_dir);
  const std::string since = last ? "nothing saved after " + fs::path(*last).filename().string() : "nothing saved";
  if (args_.nan_policy == "stop")
    throw Error(nonfinite_what(r) + " (nan_policy stop: " + since +
                "; resume with --resume_from_checkpoint latest and a lower learning_rate, or use --nan_policy "
                "skip or rollback)");
  ++skipped_steps_;
  if (++nonfinite_in_a_row_ >= args_.nan_patience)
    throw Error(nonfinite_what(r) + " (nan_policy skip: " + std::to_string(nonfinite_in_a_row_) +
                " steps in a row, the nan_patience; " + since + ")");
  log_->message(nonfinite_what(r) + ": skipped, the weights are unchanged (nan_policy skip; " +
                std::to_string(nonfinite_in_a_row_) + " in a row, " + std::to_string(skipped_steps_) + " in all)");
}

void Trainer::roll_back(const StepResult& r) {
  const auto last = last_checkpoint(args_.output_dir);
  if (!last)
    throw Error(nonfinite_what(r) + " (nan_policy rollback: no checkpoint to roll back to yet; save more often "
                "with a smaller save_steps)");
  if (++rollbacks_since_save_ > args_.nan_patience)
    throw Error(nonfinite_what(r) + " (nan_policy rollback: " + std::to_string(args_.nan_patience) +
                " rollbacks without a new checkpoint, the nan_patience; nothing saved after " +
                fs::path(*last).filename().string() + ")");
  const std::string what = nonfinite_what(r);
  const std::int64_t failed = state_.global_step;
  const double scale = lr_scale_ * kRollbackLrFactor;
  resume(*last);
  lr_scale_ = scale;
  loss_since_log_ = 0;
  steps_since_log_ = 0;
  log_->message(what + ": rolled back to " + *last + ", learning rate now " + std::to_string(scale) +
                " x the schedule's (nan_policy rollback)");
  log_->log({{"nonfinite_rollback_from", failed}, {"learning_rate_scale", scale}});
}

// With average_tokens_across_devices, micro-batch i's MLM mean is weighted by its share of the labelled
// tokens of the whole step on every rank (NSP: of the sequences), times the world size that the gradient
// average divides by again; the step's gradient is then that of the mean over the global batch. Without it,
// each micro-batch's loss counts 1 / accumulation (DDP's and HF's older behaviour).
std::vector<Trainer::LossWeight> Trainer::loss_weights(const std::vector<data::Batch>& micro) {
  std::vector<LossWeight> w(micro.size());
  double labelled = 0, sequences = 0;
  for (std::size_t i = 0; i < micro.size(); ++i) {
    w[i].mlm = static_cast<double>(micro[i].labels.ne(-100).sum().item<std::int64_t>());
    w[i].nsp = static_cast<double>(micro[i].input_ids.size(0));
    labelled += w[i].mlm, sequences += w[i].nsp;
  }
  const double world = static_cast<double>(in_.world->size()), n = static_cast<double>(micro.size());
  std::vector<double> total{labelled, sequences};
  if (args_.average_tokens_across_devices) total = in_.world->sum(total);
  for (auto& x : w) {
    if (args_.average_tokens_across_devices) x = {x.mlm > 0 ? x.mlm * world / total[0] : 0, x.nsp * world / total[1]};
    else x = {x.mlm > 0 ? 1 / n : 0, 1 / n};
  }
  return w;
}

// A micro-batch without labelled tokens has a NaN MLM mean: its weight is 0 and the term is left out;
// with no term left the result is undefined and the micro-batch adds nothing to the gradients.
at::Tensor Trainer::weighted_loss(const model::BertForPreTrainingOutput& out, const LossWeight& w) {
  at::Tensor l;
  auto add = [&](const at::Tensor& term, double weight) {
    if (!term.defined() || weight == 0) return;
    l = l.defined() ? l + term * weight : term * weight;
  };
  add(out.mlm_loss, w.mlm);
  add(out.nsp_loss, w.nsp);
  return l;
}

// The next training batch; at the end of an epoch the loader starts the next one (new order, new masks).
data::Batch Trainer::next_batch(bool& epoch_ended) {
  std::optional<data::Batch> b = in_.train->next();
  if (!b) {
    epoch_ended = true;
    b = in_.train->next();
  }
  if (!b) throw Error("training data: an epoch yielded no batch");
  if (!in_.dump_batches.empty()) {
    char name[64];
    std::snprintf(name, sizeof name, "batch-%d-%06lld.safetensors", in_.world->rank(), static_cast<long long>(dumped_++));
    eval::save_batch(*b, (std::filesystem::path(in_.dump_batches) / name).string());
  }
  return std::move(*b);
}

void Trainer::verify_parameters() {
  if (!in_.verify_parameters || in_.world->size() == 1) return;
  std::vector<std::string> names;
  std::vector<at::Tensor> tensors;
  for (const auto& p : params_) names.push_back(p.name), tensors.push_back(p.tensor);
  in_.world->verify_parameters(names, tensors);
}

// Averages gradients over processes (dist/); with one process this has nothing to do.
void Trainer::sync_gradients() { in_.world->sync_gradients(in_.model->parameters()); }

void Trainer::log_train(const StepResult& r) {
  if (r.finite) {  // a skipped step's loss is counted apart, not averaged into the logged loss
    loss_since_log_ += r.loss;
    mlm_since_log_ += r.mlm_loss;
    nsp_since_log_ += r.nsp_loss;
    ++steps_since_log_;
    run_loss_sum_ += r.loss;
  }
  ++run_steps_;
  run_samples_ += r.stats.sequences;
  bool log_now = (args_.logging_first_step && r.step == 1) ||
                 due(args_.logging_strategy, state_.logging_steps, r) || r.step == max_steps_;
  log_->tick(r.stats, log_now);
  if (!log_now || args_.logging_strategy == "no") return;
  // A logging window of skipped steps only has no mean: NaN, as HF would log it.
  const double steps = steps_since_log_ ? static_cast<double>(steps_since_log_) : std::numeric_limits<double>::quiet_NaN();
  nlohmann::json entry{{"loss", loss_since_log_ / steps},
                       {"learning_rate", r.stats.lr},
                       {"epoch", state_.epoch},
                       {"mlm_loss", mlm_since_log_ / steps}};
  if (r.has_nsp) entry["nsp_loss"] = nsp_since_log_ / steps;
  if (args_.max_grad_norm > 0) entry["grad_norm"] = r.grad_norm;
  if (skipped_steps_) entry["skipped_steps"] = skipped_steps_;
  log_->log(entry);
  loss_since_log_ = mlm_since_log_ = nsp_since_log_ = 0;
  steps_since_log_ = 0;
}

bool Trainer::due(const std::string& strategy, std::int64_t every, const StepResult& r) const {
  if (strategy == "epoch") return r.epoch_ended || r.step % steps_per_epoch_ == 0;
  return strategy == "steps" && r.step % every == 0;
}

nlohmann::json Trainer::evaluate() {
  nlohmann::json r = eval::evaluate(in_.model, *in_.eval, {in_.device, args_.bf16, 0, false, in_.world});
  r["epoch"] = state_.epoch;
  log_->log(r);
  return r;
}

void Trainer::track_best(const nlohmann::json& metrics) {
  std::string key = args_.best_metric_key();
  if (!metrics.contains(key)) throw Error("metric_for_best_model: evaluation has no " + key);
  double v = metrics[key].get<double>();
  bool better = !state_.best_metric || (args_.best_is_greater() ? v > *state_.best_metric : v < *state_.best_metric);
  if (!better) return;
  state_.best_metric = v;
  state_.best_global_step = state_.global_step;
}

}  // namespace bertforge::train
