// Trainer: Hugging Face Trainer's training loop, natively, for pre-training and fine-tuning (train/task.h). One optimizer step reads top to bottom
// (train_step): learning rate, micro-batches, forward and backward, gradient sync, clipping, update, totals.
// What happens around a step is HF's DefaultFlowCallback, event for event: after each step the step events
// (logging_first_step, the `steps` strategies, and at the last step an evaluation and a save for `steps`),
// then, when the step took an epoch's last batch or was the run's last, the epoch events (the `epoch`
// strategies). A log entry is never written twice for one step; eval_delay holds evaluations back;
// eval_on_start evaluates before the first step.
//
// Semantics follow HF where it defines them: steps per epoch = ceil(batches per epoch / accumulation), the
// epoch's last step taking the batches left (a step never spans two epochs); max_steps from
// num_train_epochs when not given; the logged loss is the mean over the steps since the last log (HF's
// logging_nan_inf_filter: a non-finite step adds the window's sum / (1 + its steps) instead), with the task's
// named terms beside it (pre-training: mlm_loss and nsp_loss, bertforge's keys: HF logs the sum only); learning_rate is the
// rate the step used (transformers 5 reads it before lr_scheduler.step()); grad_norm is always logged;
// epoch is fractional (epoch + batches taken / batches per epoch). best_metric is tracked only when
// metric_for_best_model is given (or load_best_model_at_end); the best checkpoint is protected from
// rotation, and with save_total_limit 1 the run ends keeping the best alone. Masks are drawn at batch time
// by the loader (new masks each epoch). Evaluation masks come from the eval loader's own seed, so every
// evaluation sees the same masks and training randomness is untouched by evaluating.
//
// Exact resume: a checkpoint holds the weights, optimizer moments, the CPU (and CUDA) generator state, the
// loader position and the phase; resume seeks the loader there (no replay), so the per-step losses of an
// interrupted and resumed run equal an uninterrupted run's, bit for bit on CPU with the same thread count.
// SIGINT/SIGTERM: the current step finishes, a checkpoint is saved, train() returns Stopped.
//
// Non-finite steps: each step's loss (summed over its micro-batches and ranks) and gradient norm (computed
// also without clipping) are tested once, at that step, and nan_policy says what happens:
//  - stop (default): an Error naming the step and what went non-finite; nothing after the last checkpoint
//    is saved, so no NaN weights reach a checkpoint and save_total_limit never rotates good ones out;
//  - skip: the update is not applied (one extra host read per step, before the optimizer: the only policy
//    that needs the answer before the update), the step counts, is logged and counted ("skipped_steps" in the
//    log entries); nan_patience skipped steps in a row stop the run as stop does;
//  - rollback: the last checkpoint is restored (weights, optimizer, RNG, data position, state), the learning
//    rate is scaled by 0.5 for the rest of the run (saved with later checkpoints), the log window starts
//    afresh, and training goes on, logged; more than nan_patience rollbacks before the next checkpoint is
//    saved stop the run.
//
// Loss: with average_tokens_across_devices (HF's default) each term of a step's loss is the mean over every
// item (TrainTask::term_counts: labelled token, sequence) of its micro-batches on every rank, so P ranks x
// batch B x accumulation A train as one process with batch P*B*A. (HF 5 does so for pre-training; for its
// classification heads, which ignore num_items_in_batch, it sums the micro-batches' means instead: the same
// for accumulation 1 on one process.) Distributed (a World of several ranks): rank 0's weights are
// broadcast when train() starts; the step's loss, samples, tokens, FLOPs and stop signals are totalled over
// the ranks; evaluation metrics are those of the whole eval set; rank 0 alone writes logs, and checkpoints
// (save_on_each_node: the first rank of every node).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bertforge/data/loader.h"
#include "bertforge/dist/world.h"
#include "bertforge/text/tokenizer.h"
#include "bertforge/train/optimizer.h"
#include "bertforge/train/resume_point.h"  // ResumePoint, bertforge_state.json
#include "bertforge/train/run_log.h"
#include "bertforge/train/schedule.h"
#include "bertforge/train/task.h"
#include "bertforge/train/trainer_state.h"
#include "bertforge/train/training_args.h"

namespace bertforge::train {

struct TrainerInputs {
  std::shared_ptr<TrainTask> task;
  std::shared_ptr<data::Loader> train;
  std::shared_ptr<data::Loader> eval;     // may be null: no evaluation
  dist::World* world = nullptr;           // null: a single process
  c10::Device device = c10::kCPU;
  int phase = 0;                          // for multi-phase recipes
  std::int64_t phase_start_step = 0;
  bool quiet = false;                     // no progress lines (tests)
  bool verify_parameters = false;         // check all ranks hold the same weights at start and at each save
  // Saved (text::save_pretrained) into each checkpoint and the final model, as HF Trainer saves its
  // tokenizer, so the folders load with AutoTokenizer and fill-mask alone; null: no tokenizer files.
  std::shared_ptr<const text::Tokenizer> tokenizer;
  // Non-empty: each training micro-batch, as the model sees it, also goes to this folder (save_batch) as
  // batch-<rank>-<n>.safetensors, n counting from 0 in the order this process takes them. For comparing
  // training steps with another trainer (tools/gen_golden/trainer_steps.py).
  std::string dump_batches;
  // Tests: replaces the loss of a micro-batch of global step `step` (1-based) before backward; the
  // nan_policy tests make steps non-finite with it (fault_steps_from_environment). Empty: none.
  std::function<at::Tensor(std::int64_t step, const at::Tensor& loss)> loss_hook;
  bool dry_run = false;                   // nothing written: no output_dir, no log files (time_steps)
};

enum class TrainOutcome { Finished, Stopped };

class Trainer {
 public:
  Trainer(TrainingArguments args, TrainerInputs inputs);

  // Restores everything a checkpoint holds (weights included) and seeks the loader.
  void resume(const std::string& checkpoint);
  // Continued pre-training from an HF Trainer checkpoint-N: its optimizer.pt (Adam/AdamW moments).
  void import_optimizer(const std::string& optimizer_pt);
  // A later phase of a recipe: keeps the earlier phases' log history and counters in this run's state.
  void carry_over(const TrainerState& previous);
  TrainOutcome train();
  nlohmann::json evaluate();
  // Seconds per optimizer step: the mean of `timed` train_step()s after one untimed (allocations, kernel
  // choice), for --dry_run's plan. The weights change in memory only.
  double time_steps(int timed);

  const TrainerState& state() const { return state_; }
  std::int64_t max_steps() const { return max_steps_; }

 private:
  // One step's sums on this rank, still on the device: read once, after the update is queued.
  struct StepSums {
    at::Tensor loss, tokens;         // float64; attended tokens
    std::vector<at::Tensor> terms;   // the task's terms as weighted in the loss (float64)
    std::vector<bool> present;       // the step had the term
    double sequences = 0, flos = 0;
  };
  // The same over every rank, on the host (stop: ranks that got SIGINT/SIGTERM).
  struct StepTotals {
    double loss = 0, tokens = 0, sequences = 0, flos = 0, stop = 0;
    std::vector<double> terms;
    std::vector<double*> fields();  // all of them, for one all-reduce
  };
  struct StepResult {
    std::int64_t step = 0;      // steps of this phase done, this one included
    double loss = 0, grad_norm = 0;     // loss: mean over the ranks
    std::vector<double> terms;          // the loss's terms, each weighted as in the loss
    std::vector<bool> present;
    bool finite = true;         // loss and gradient norm are finite
    bool applied = true;        // false: nan_policy skip left the weights as they were
    bool epoch_ended = false;   // the step took the last batch of an epoch
    bool stop = false;          // SIGINT/SIGTERM reached some rank
    StepStats stats;
  };
  // The losses since the last log entry (HF's tr_loss and the steps it spans).
  struct LogWindow {
    double loss = 0;
    std::vector<double> terms;
    std::int64_t steps = 0;
    void add(const StepResult& r, bool nan_inf_filter);
  };
  // What HF's DefaultFlowCallback asks for after a step (on_step_end) or an epoch (on_epoch_end).
  struct Events {
    bool log = false, evaluate = false, save = false;
  };

  StepResult train_step();
  std::vector<data::Batch> next_micro_batches();
  StepSums forward_backward(const std::vector<data::Batch>& micro);
  StepTotals sum_over_ranks(const StepSums& sums, const at::Tensor& norm, StepResult& r);
  bool finite_on_every_rank(const at::Tensor& loss, const at::Tensor& norm);
  // weights[micro-batch][term]
  std::vector<std::vector<double>> loss_weights(const std::vector<data::Batch>& micro);
  void sync_gradients();

  Events step_events(const StepResult& r) const;
  Events epoch_events() const;
  void act_on(const Events& e, const StepResult& r);  // HF's _maybe_log_save_evaluate
  void log_train(const StepResult& r);
  void save_checkpoint();
  bool saves() const;  // this process writes checkpoints
  void track_best(const nlohmann::json& metrics);
  void finish(double runtime_s);
  void keep_only_best();
  void verify_parameters();

  std::string nonfinite_what(const StepResult& r) const;
  void skip_or_stop(const StepResult& r);
  void roll_back(const StepResult& r);
  std::int64_t local_step() const { return state_.global_step - in_.phase_start_step; }
  torch::nn::Module& model() { return in_.task->model(); }

  TrainingArguments args_;
  TrainingChoices choices_;
  TrainerInputs in_;
  std::unique_ptr<dist::World> own_world_;
  std::vector<NamedTensor> params_;
  std::unique_ptr<Optimizer> optimizer_;
  Schedule schedule_;
  TrainerState state_;
  std::unique_ptr<RunLog> log_;
  std::int64_t steps_per_epoch_ = 1, max_steps_ = 0;
  double flos_per_token_ = 0;
  LogWindow window_;
  std::int64_t last_logged_step_ = -1, last_saved_step_ = -1;
  double run_loss_sum_ = 0;             // the closed windows' sums (HF's train_loss = their total / steps)
  std::int64_t run_steps_ = 0, run_samples_ = 0;
  std::int64_t dumped_ = 0;  // batches written to dump_batches
  double lr_scale_ = 1;                           // nan_policy rollback
  std::int64_t nonfinite_in_a_row_ = 0, skipped_steps_ = 0, rollbacks_since_save_ = 0;
};

// BERTFORGE_FAULT_NONFINITE_STEPS=3,7 (fault tests): a loss_hook making the loss of those global steps NaN,
// once each; empty when the variable is unset.
std::function<at::Tensor(std::int64_t, const at::Tensor&)> fault_steps_from_environment();

// The optimizer TrainingArguments describe (optim, adam_beta1/2, adam_epsilon, weight_decay).
OptimizerOptions optimizer_options(const TrainingArguments& args);

}  // namespace bertforge::train
