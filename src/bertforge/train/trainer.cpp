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
#include "bertforge/train/stop_signal.h"
#include "bertforge/util/error.h"

namespace fs = std::filesystem;

namespace bertforge::train {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

constexpr double kRollbackLrFactor = 0.5;
}  // namespace

std::function<at::Tensor(std::int64_t, const at::Tensor&)> fault_steps_from_environment() {
  const char* env = std::getenv("BERTFORGE_FAULT_NONFINITE_STEPS");
  if (!env) return {};
  auto steps = std::make_shared<std::vector<std::int64_t>>();
  std::stringstream list(env);
  for (std::string s; std::getline(list, s, ',');)
    if (!s.empty()) steps->push_back(std::stoll(s));
  return [steps](std::int64_t step, const at::Tensor& loss) {
    auto it = std::find(steps->begin(), steps->end(), step);
    if (it == steps->end()) return loss;
    steps->erase(it);
    return loss * std::numeric_limits<double>::quiet_NaN();
  };
}

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
      choices_(args_.choices()),
      in_(std::move(inputs)) {
  if (!in_.world) own_world_ = dist::single_process(), in_.world = own_world_.get();
  model().to(in_.device);
  for (const auto& p : model().named_parameters()) {
    params_.push_back({p.key(), p.value()});
    // HF's floating_point_ops: 6 x tokens x parameters outside the embeddings.
    if (p.key().find("embeddings") == std::string::npos) flos_per_token_ += 6.0 * static_cast<double>(p.value().numel());
  }
  optimizer_ = std::make_unique<Optimizer>(params_, optimizer_options(args_));

  std::int64_t batches = static_cast<std::int64_t>(in_.train->batches_per_epoch());
  if (batches == 0) throw Error("training data: no batch (fewer sequences than one batch with dataloader_drop_last?)");
  steps_per_epoch_ = args_.steps_per_epoch(batches);
  max_steps_ = args_.total_steps(steps_per_epoch_);
  schedule_ = {choices_.schedule, args_.learning_rate, args_.warmup_for(max_steps_), max_steps_};

  // HF's TrainerState.compute_steps; eval_steps unset (0) is logging_steps under the steps strategy (HF's
  // __post_init__) and otherwise keeps TrainerState's default.
  state_.global_step = in_.phase_start_step;
  state_.max_steps = in_.phase_start_step + max_steps_;
  state_.logging_steps = interval_steps(args_.logging_steps, max_steps_);
  if (args_.eval_steps > 0) state_.eval_steps = interval_steps(args_.eval_steps, max_steps_);
  else if (choices_.eval == Strategy::steps) state_.eval_steps = state_.logging_steps;
  state_.save_steps = interval_steps(args_.save_steps, max_steps_);
  state_.train_batch_size = args_.per_device_train_batch_size;
  state_.num_train_epochs = std::ceil(static_cast<double>(max_steps_) / steps_per_epoch_);

  const bool writes = in_.world->is_main() && !in_.dry_run;
  std::error_code ec;
  if (!in_.dry_run) std::filesystem::create_directories(args_.output_dir, ec);
  if (ec) fail_at(args_.output_dir, 0, "cannot create output_dir: " + ec.message());
  log_ = std::make_unique<RunLog>(args_.output_dir, state_, in_.quiet || !writes, writes,
                                  args_.reports_to_tensorboard() ? tensorboard_logging_dir(args_.output_dir) : "");
}

TrainOutcome Trainer::train() {
  StopSignal stop;
  auto start = Clock::now();
  log_->message("training: " + std::to_string(max_steps_ - local_step()) + " of " + std::to_string(max_steps_) +
                " steps left, " + std::to_string(steps_per_epoch_) + " steps per epoch, optim " + args_.optim);
  // Every rank starts from rank 0's weights (fresh or resumed); gradient buckets start during backward.
  in_.world->attach_parameters(model().parameters());
  verify_parameters();
  last_logged_step_ = state_.global_step;
  if (args_.eval_on_start && in_.eval) evaluate();
  while (local_step() < max_steps_) {
    const StepResult r = train_step();
    if (!r.finite && choices_.nan == NanPolicy::rollback) {
      roll_back(r);
      continue;
    }
    if (!r.finite) skip_or_stop(r);
    else nonfinite_in_a_row_ = 0;
    window_.add(r, args_.logging_nan_inf_filter);
    ++run_steps_;
    run_samples_ += r.stats.sequences;
    const bool last = r.step == max_steps_;
    const Events after_step = step_events(r);
    const Events after_epoch = r.epoch_ended || last ? epoch_events() : Events{};
    log_->tick(r.stats, after_step.log || after_epoch.log || last);
    act_on(after_step, r);
    act_on(after_epoch, r);
    if (r.stop && !last) {
      if (last_saved_step_ != state_.global_step) save_checkpoint();
      log_->message("stopped by signal " + std::to_string(StopSignal::signal_number()) + " at step " +
                    std::to_string(state_.global_step) + "; resume with --resume_from_checkpoint latest");
      return TrainOutcome::Stopped;
    }
  }
  finish(seconds_since(start));
  return TrainOutcome::Finished;
}

double Trainer::time_steps(int timed) {
  train_step();
  auto start = Clock::now();
  for (int i = 0; i < timed; ++i) train_step();  // each ends in a host read: the device has finished
  return seconds_since(start) / timed;
}

// One optimizer step: gradient_accumulation_steps micro-batches (fewer at an epoch's end), then the update.
Trainer::StepResult Trainer::train_step() {
  StepResult r;
  const double lr = schedule_.lr_at(local_step()) * lr_scale_;
  // Several ranks: after a sync every gradient is a view of its bucket, defined on every rank (zeros where a
  // rank had none), so zeroing it in place changes nothing the update sees, and backward then accumulates
  // into the bucket itself instead of a fresh tensor that the sync copies in.
  optimizer_->zero_grad(/*set_to_none=*/in_.world->size() == 1);
  const auto waited = Clock::now();
  const std::vector<data::Batch> micro = next_micro_batches();
  r.stats.wait_s = seconds_since(waited);
  const StepSums sums = forward_backward(micro);
  sync_gradients();
  // The gradient norm also when nothing clips: it is logged, and the non-finite test needs it.
  const at::Tensor norm = args_.max_grad_norm > 0 ? clip_grad_norm(model().parameters(), args_.max_grad_norm)
                                                  : grad_norm(model().parameters());
  // skip must decide before the update: a host read, the same answer on every rank
  r.applied = choices_.nan != NanPolicy::skip || finite_on_every_rank(sums.loss, norm);
  if (r.applied) optimizer_->step(lr);
  ++state_.global_step;

  const StepTotals total = sum_over_ranks(sums, norm, r);
  const double ranks = static_cast<double>(in_.world->size());
  r.loss = total.loss / ranks;
  for (double t : total.terms) r.terms.push_back(t / ranks);
  r.present = sums.present;
  r.stop = total.stop > 0;
  // The one non-finite test: a NaN on any rank makes the summed loss NaN; the gradient norm is global.
  r.finite = r.applied && std::isfinite(r.loss) && std::isfinite(r.grad_norm);
  state_.total_flos += total.flos;
  r.step = local_step();
  r.stats = {r.step, max_steps_, r.loss, lr, std::llround(total.sequences), std::llround(total.tokens), r.stats.wait_s};
  const data::LoaderPosition pos = in_.train->position();
  const auto batches = in_.train->batches_per_epoch();
  r.epoch_ended = pos.batch == batches;
  state_.epoch = static_cast<double>(pos.epoch) + static_cast<double>(pos.batch) / static_cast<double>(batches);
  return r;
}

// The step's micro-batches, taken first as HF's get_batch_samples (their labels set the loss weights): as many
// as gradient_accumulation_steps, fewer when the epoch has fewer left; after an epoch's last batch the loader
// starts the next epoch (new order, new masks).
std::vector<data::Batch> Trainer::next_micro_batches() {
  const std::uint64_t batches = in_.train->batches_per_epoch();
  if (in_.train->position().batch == batches) in_.train->next();  // the end: moves to the next epoch
  const std::uint64_t left = batches - in_.train->position().batch;
  std::vector<data::Batch> micro;
  for (std::uint64_t i = 0; i < std::min<std::uint64_t>(args_.gradient_accumulation_steps, left); ++i) {
    std::optional<data::Batch> b = in_.train->next();
    if (!b) throw Error("training data: an epoch yielded fewer batches than it counts");
    if (!in_.dump_batches.empty()) {
      char name[64];
      std::snprintf(name, sizeof name, "batch-%d-%06lld.safetensors", in_.world->rank(), static_cast<long long>(dumped_++));
      eval::save_batch(*b, (std::filesystem::path(in_.dump_batches) / name).string());
    }
    micro.push_back(std::move(*b));
  }
  return micro;
}

// Forward and backward of each micro-batch; the loss and token counts stay tensors (no host synchronisation
// per micro-batch), the loss summed in float64.
// A term absent from a micro-batch (no labelled token: its mean would be NaN) has weight 0 and is left out;
// with no term left the loss is undefined and the micro-batch adds nothing to the gradients.
Trainer::StepSums Trainer::forward_backward(const std::vector<data::Batch>& micro) {
  const std::vector<std::vector<double>> weights = loss_weights(micro);
  const auto on = at::TensorOptions(in_.device).dtype(at::kDouble);
  const std::size_t n_terms = in_.task->terms().size();
  StepSums s{at::zeros({}, on), at::zeros({}, on.dtype(at::kLong)), {}, std::vector<bool>(n_terms, false)};
  for (std::size_t t = 0; t < n_terms; ++t) s.terms.push_back(at::zeros({}, on));
  for (std::size_t i = 0; i < micro.size(); ++i) {
    const std::vector<at::Tensor> terms = in_.task->forward(micro[i], in_.device, args_.bf16);
    in_.world->sync_next_backward(i + 1 == micro.size());  // no all-reduce before the last micro-batch
    at::Tensor l;
    for (std::size_t t = 0; t < n_terms; ++t) {
      if (!terms[t].defined()) continue;
      s.present[t] = true;
      if (weights[i][t] == 0) continue;
      l = l.defined() ? l + terms[t] * weights[i][t] : terms[t] * weights[i][t];
      s.terms[t].add_(terms[t].detach().to(at::kDouble) * weights[i][t]);
    }
    if (l.defined() && in_.loss_hook) l = in_.loss_hook(state_.global_step + 1, l);
    if (l.defined()) {
      l.backward();
      s.loss.add_(l.detach());
    }
    s.tokens.add_(micro[i].attention_mask.to(in_.device).sum());
    s.sequences += static_cast<double>(micro[i].input_ids.size(0));
    s.flos += flos_per_token_ * static_cast<double>(micro[i].input_ids.numel());
  }
  return s;
}

// The step's one host read (the gradient norm with it), then the totals over the ranks as HF reports them:
// loss, samples, tokens and floating-point operations; and a stop signal seen by any rank, so that all stop
// after the same step.
Trainer::StepTotals Trainer::sum_over_ranks(const StepSums& s, const at::Tensor& norm, StepResult& r) {
  std::vector<at::Tensor> reads{s.loss, s.tokens.to(at::kDouble), norm.to(s.loss.device(), at::kDouble)};
  reads.insert(reads.end(), s.terms.begin(), s.terms.end());
  const at::Tensor host = at::stack(reads).cpu();
  const auto read = host.accessor<double, 1>();
  StepTotals t;
  t.loss = read[0], t.tokens = read[1], r.grad_norm = read[2];
  for (std::size_t i = 0; i < s.terms.size(); ++i) t.terms.push_back(read[3 + i]);
  t.sequences = s.sequences, t.flos = s.flos, t.stop = StopSignal::requested() ? 1.0 : 0.0;
  if (in_.world->size() == 1) return t;
  const std::vector<double*> fields = t.fields();
  std::vector<double> all;
  for (double* field : fields) all.push_back(*field);
  all = in_.world->sum(all);
  for (std::size_t i = 0; i < fields.size(); ++i) *fields[i] = all[i];
  return t;
}

bool Trainer::finite_on_every_rank(const at::Tensor& loss, const at::Tensor& norm) {
  double bad = (at::isfinite(loss) & at::isfinite(norm)).item<bool>() ? 0 : 1;
  if (in_.world->size() > 1) bad = in_.world->sum({bad})[0];
  return bad == 0;
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
  if (choices_.nan == NanPolicy::stop)
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
  window_ = {};
  last_logged_step_ = state_.global_step;
  log_->message(what + ": rolled back to " + *last + ", learning rate now " + std::to_string(scale) +
                " x the schedule's (nan_policy rollback)");
  log_->log({{"nonfinite_rollback_from", failed}, {"learning_rate_scale", scale}});
}

// With average_tokens_across_devices, micro-batch i's mean of a term is weighted by its share of that term's
// items (labelled tokens, sequences) in the whole step on every rank, times the world size that the gradient
// average divides by again; the step's gradient is then that of the mean over the global batch. Without it,
// each micro-batch's loss counts 1 / accumulation (DDP's and HF's older behaviour).
std::vector<std::vector<double>> Trainer::loss_weights(const std::vector<data::Batch>& micro) {
  std::vector<std::vector<double>> w;
  std::vector<double> total(in_.task->terms().size(), 0.0);
  for (const auto& b : micro) {
    w.push_back(in_.task->term_counts(b));
    for (std::size_t t = 0; t < total.size(); ++t) total[t] += w.back()[t];
  }
  const double world = static_cast<double>(in_.world->size()), n = static_cast<double>(micro.size());
  if (args_.average_tokens_across_devices) total = in_.world->sum(total);
  for (auto& counts : w)
    for (std::size_t t = 0; t < total.size(); ++t)
      counts[t] = counts[t] == 0 ? 0 : args_.average_tokens_across_devices ? counts[t] * world / total[t] : 1 / n;
  return w;
}

std::vector<double*> Trainer::StepTotals::fields() {
  std::vector<double*> f{&loss, &tokens, &sequences, &flos, &stop};
  for (double& t : terms) f.push_back(&t);
  return f;
}

void Trainer::verify_parameters() {
  if (!in_.verify_parameters || in_.world->size() == 1) return;
  std::vector<std::string> names;
  std::vector<at::Tensor> tensors;
  for (const auto& p : params_) names.push_back(p.name), tensors.push_back(p.tensor);
  in_.world->verify_parameters(names, tensors);
}

// Averages gradients over processes (dist/); with one process this has nothing to do.
void Trainer::sync_gradients() { in_.world->sync_gradients(model().parameters()); }

// HF's tr_loss: a non-finite step's loss is, with the filter, the window's mean so far (HF's
// `tr_loss += tr_loss / (1 + steps since the last log)`), so one bad step does not make the logged mean NaN.
void Trainer::LogWindow::add(const StepResult& r, bool nan_inf_filter) {
  terms.resize(r.terms.size());
  if (!std::isfinite(r.loss) && nan_inf_filter) {
    const double n = 1.0 + static_cast<double>(steps);
    loss += loss / n;
    for (double& t : terms) t += t / n;
  } else {
    loss += r.loss;
    for (std::size_t i = 0; i < terms.size(); ++i) terms[i] += r.terms[i];
  }
  ++steps;
}

Trainer::Events Trainer::step_events(const StepResult& r) const {
  const std::int64_t s = r.step;
  const bool last = s == max_steps_;
  Events e;
  e.log = (args_.logging_first_step && s == 1) || (choices_.logging == Strategy::steps && s % state_.logging_steps == 0);
  e.evaluate = choices_.eval == Strategy::steps && args_.eval_delay <= static_cast<double>(s) &&
               (s % state_.eval_steps == 0 || last);
  e.save = choices_.save == Strategy::steps && (s % state_.save_steps == 0 || last);
  return e;
}

Trainer::Events Trainer::epoch_events() const {
  Events e;
  e.log = choices_.logging == Strategy::epoch;
  e.evaluate = choices_.eval == Strategy::epoch && args_.eval_delay <= state_.epoch;
  e.save = choices_.save == Strategy::epoch;
  return e;
}

void Trainer::act_on(const Events& e, const StepResult& r) {
  if (e.log && state_.global_step > last_logged_step_) log_train(r);
  if (e.evaluate && in_.eval) track_best(evaluate());
  if (e.save) save_checkpoint();
}

void Trainer::log_train(const StepResult& r) {
  const double steps = static_cast<double>(window_.steps);
  nlohmann::json entry{{"loss", window_.loss / steps},
                       {"grad_norm", r.grad_norm},
                       {"learning_rate", r.stats.lr},
                       {"epoch", state_.epoch}};
  const std::vector<std::string> names = in_.task->terms();
  for (std::size_t t = 0; t < names.size(); ++t)
    if (!names[t].empty() && r.present[t]) entry[names[t]] = window_.terms[t] / steps;
  if (skipped_steps_) entry["skipped_steps"] = skipped_steps_;
  log_->log(entry);
  run_loss_sum_ += window_.loss;
  window_ = {};
  last_logged_step_ = state_.global_step;
}

nlohmann::json Trainer::evaluate() {
  nlohmann::json r = in_.task->evaluate(*in_.eval, {in_.device, args_.bf16, 0, false, in_.world});
  r["epoch"] = state_.epoch;
  log_->log(r);
  return r;
}

// HF's _determine_best_metric: only with metric_for_best_model (load_best_model_at_end implies "loss"); the
// step is remembered only when checkpoints are saved, so that it can name one.
void Trainer::track_best(const nlohmann::json& metrics) {
  if (args_.metric_for_best_model.empty() && !args_.load_best_model_at_end) return;
  const std::string key = args_.best_metric_key();
  if (!metrics.contains(key)) throw Error("metric_for_best_model: evaluation has no " + key);
  const double v = metrics[key].get<double>();
  const bool better = !state_.best_metric || (args_.best_is_greater() ? v > *state_.best_metric : v < *state_.best_metric);
  if (!better) return;
  state_.best_metric = v;
  if (choices_.save != Strategy::no) state_.best_global_step = state_.global_step;
}

}  // namespace bertforge::train
