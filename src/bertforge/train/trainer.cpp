#include "bertforge/train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "bertforge/train/evaluation.h"
#include "bertforge/train/stop_signal.h"
#include "bertforge/util/error.h"

namespace bertforge::train {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

Trainer::Trainer(TrainingArguments args, TrainerInputs inputs) : args_(std::move(args)), in_(std::move(inputs)) {
  if (!in_.world) own_world_ = dist::single_process(), in_.world = own_world_.get();
  in_.model->to(in_.device);
  in_.model->train();
  in_.model->sparse_mlm = true;  // the vocabulary projection only where a label is: same loss and gradients
  for (const auto& p : in_.model->named_parameters()) {
    params_.push_back({p.key(), p.value()});
    // HF's floating_point_ops: 6 x tokens x parameters outside the embeddings.
    if (p.key().find("embeddings") == std::string::npos) flos_per_token_ += 6.0 * static_cast<double>(p.value().numel());
  }
  optimizer_ = std::make_unique<Optimizer>(
      params_, OptimizerOptions{args_.optim, args_.adam_beta1, args_.adam_beta2, args_.adam_epsilon, args_.weight_decay});

  std::int64_t batches = static_cast<std::int64_t>(in_.train->batches_per_epoch());
  if (batches == 0) throw Error("training data: no batch (fewer sequences than one batch with dataloader_drop_last?)");
  steps_per_epoch_ = std::max<std::int64_t>(1, batches / args_.gradient_accumulation_steps);
  max_steps_ = args_.max_steps > 0 ? args_.max_steps
                                   : static_cast<std::int64_t>(std::ceil(args_.num_train_epochs * steps_per_epoch_));
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
  auto local = [&] { return state_.global_step - in_.phase_start_step; };
  log_->message("training: " + std::to_string(max_steps_ - local()) + " of " + std::to_string(max_steps_) +
                " steps left, " + std::to_string(steps_per_epoch_) + " steps per epoch, optim " + args_.optim);
  // Every rank starts from rank 0's weights (fresh or resumed); gradient buckets start during backward.
  in_.world->attach_parameters(in_.model->parameters());
  verify_parameters();
  bool saved = false;
  while (local() < max_steps_) {
    StepResult r = train_step();
    bool last = local() == max_steps_;
    log_train(r);
    if (args_.eval_strategy != "no" && in_.eval && due(args_.eval_strategy, state_.eval_steps, epoch_ended_))
      track_best(evaluate());
    saved = args_.save_strategy != "no" && (due(args_.save_strategy, state_.save_steps, epoch_ended_) || last);
    if (saved) save_checkpoint();
    epoch_ended_ = false;
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
  double lr = schedule_.lr_at(state_.global_step - in_.phase_start_step);
  optimizer_->zero_grad();
  // The step's micro-batches come first, as HF's get_batch_samples: their labels set the loss weights.
  auto waited = Clock::now();
  std::vector<data::Batch> micro;
  for (std::int64_t i = 0; i < args_.gradient_accumulation_steps; ++i) micro.push_back(next_batch());
  r.stats.wait_s = seconds_since(waited);
  std::vector<LossWeight> weights = loss_weights(micro);
  // Loss and token counts stay tensors until the step has been queued: no host synchronisation per
  // micro-batch. The loss sums in float64, as the host-side sum it replaces did.
  at::Tensor loss = at::zeros({}, at::TensorOptions(in_.device).dtype(at::kDouble));
  at::Tensor tokens = at::zeros({}, at::TensorOptions(in_.device).dtype(at::kLong));
  // The loss's two terms (mlm_loss, nsp_loss in the log), weighted as in the loss.
  at::Tensor mlm = at::zeros({}, at::TensorOptions(in_.device).dtype(at::kDouble)), nsp = at::zeros_like(mlm);
  double flos = 0, sequences = 0;
  for (std::size_t i = 0; i < micro.size(); ++i) {
    auto out = forward_batch(in_.model, micro[i], in_.device, args_.bf16);
    in_.world->sync_next_backward(i + 1 == micro.size());  // no all-reduce before the last micro-batch
    at::Tensor l = weighted_loss(out, weights[i]);
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
  sync_gradients();
  if (args_.max_grad_norm > 0) r.grad_norm = clip_grad_norm(in_.model->parameters(), args_.max_grad_norm);
  optimizer_->step(lr);
  ++state_.global_step;

  // Totals over the ranks, as HF reports them: the step's loss, samples, tokens and floating-point operations;
  // and a stop signal seen by any rank, so that all stop after the same step. The one read per step.
  at::Tensor local = at::stack({loss, tokens.to(at::kDouble), mlm, nsp}).cpu();
  auto total = in_.world->sum({local[0].item<double>(), sequences, local[1].item<double>(), flos,
                               StopSignal::requested() ? 1.0 : 0.0, local[2].item<double>(), local[3].item<double>()});
  r.stop = total[4] > 0;
  r.loss = total[0] / static_cast<double>(in_.world->size());
  r.mlm_loss = total[5] / static_cast<double>(in_.world->size());
  r.nsp_loss = total[6] / static_cast<double>(in_.world->size());
  r.stats.sequences = std::llround(total[1]);
  r.stats.tokens = std::llround(total[2]);
  state_.total_flos += total[3];
  r.stats.step = state_.global_step - in_.phase_start_step;
  r.stats.total = max_steps_;
  r.stats.loss = r.loss;
  r.stats.lr = lr;  // the rate this step used: HF 5 reads it before the scheduler steps
  auto pos = in_.train->position();
  state_.epoch = static_cast<double>(pos.epoch) +
                 static_cast<double>(pos.batch) / static_cast<double>(in_.train->batches_per_epoch());
  return r;
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
data::Batch Trainer::next_batch() {
  std::optional<data::Batch> b = in_.train->next();
  if (!b) {
    epoch_ended_ = true;
    b = in_.train->next();
  }
  if (!b) throw Error("training data: an epoch yielded no batch");
  if (!in_.dump_batches.empty()) {
    char name[64];
    std::snprintf(name, sizeof name, "batch-%d-%06lld.safetensors", in_.world->rank(), static_cast<long long>(dumped_++));
    save_batch(*b, (std::filesystem::path(in_.dump_batches) / name).string());
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
  loss_since_log_ += r.loss;
  mlm_since_log_ += r.mlm_loss;
  nsp_since_log_ += r.nsp_loss;
  ++steps_since_log_;
  run_loss_sum_ += r.loss;
  ++run_steps_;
  run_samples_ += r.stats.sequences;
  std::int64_t step = state_.global_step - in_.phase_start_step;
  bool log_now = (args_.logging_first_step && step == 1) ||
                 due(args_.logging_strategy, state_.logging_steps, epoch_ended_) || step == max_steps_;
  log_->tick(r.stats, log_now);
  if (!log_now || args_.logging_strategy == "no") return;
  const double steps = static_cast<double>(steps_since_log_);
  nlohmann::json entry{{"loss", loss_since_log_ / steps},
                       {"learning_rate", r.stats.lr},
                       {"epoch", state_.epoch},
                       {"mlm_loss", mlm_since_log_ / steps}};
  if (r.has_nsp) entry["nsp_loss"] = nsp_since_log_ / steps;
  if (args_.max_grad_norm > 0) entry["grad_norm"] = r.grad_norm.item<double>();  // read only when logged
  log_->log(entry);
  loss_since_log_ = mlm_since_log_ = nsp_since_log_ = 0;
  steps_since_log_ = 0;
}

bool Trainer::due(const std::string& strategy, std::int64_t every, bool epoch_ended) const {
  if (strategy == "epoch") return epoch_ended || (state_.global_step - in_.phase_start_step) % steps_per_epoch_ == 0;
  return strategy == "steps" && (state_.global_step - in_.phase_start_step) % every == 0;
}

nlohmann::json Trainer::evaluate() {
  nlohmann::json r = train::evaluate(in_.model, *in_.eval, {in_.device, args_.bf16, 0, false, in_.world});
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
