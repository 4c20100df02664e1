// Trainer: Hugging Face Trainer's pre-training loop, natively. One optimizer step reads top to bottom
// (train_step): next batches, forward, backward, sync_gradients, clip, optimizer step, schedule; logging,
// evaluation and checkpoints happen behind `step % N` in train(), as HF's strategies say.
//
// Semantics follow HF where it defines them: steps per epoch = batches per epoch / accumulation (at least
// 1); max_steps from num_train_epochs when not given; the logged loss is the mean over the steps since the
// last log, with its two terms beside it as mlm_loss and nsp_loss (bertforge's keys: HF logs the sum only);
// learning_rate is the rate the step used (transformers 5 reads it before lr_scheduler.step(); 4.x logged
// the next step's); epoch is fractional. Masks are drawn at
// batch time by the loader (new masks each epoch). Evaluation masks come from the eval loader's own seed, so
// every evaluation sees the same masks and training randomness is untouched by evaluating.
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
//    rate is scaled by 0.5 for the rest of the run (saved with later checkpoints), and training goes on, logged;
//    more than nan_patience rollbacks before the next checkpoint is saved stop the run.
// Fault tests set BERTFORGE_FAULT_NONFINITE_STEPS=3,7 to make the loss of those global steps NaN once each.
//
// Loss: with average_tokens_across_devices (HF's default) a step's MLM loss is the mean over every labelled
// token of its micro-batches on every rank, NSP over every sequence, so P ranks x batch B x accumulation A
// train as one process with batch P*B*A. Distributed (a World of several ranks): rank 0's weights are
// broadcast when train() starts; the step's loss, samples, tokens, FLOPs and stop signals are totalled over
// the ranks; evaluation metrics are those of the whole eval set; rank 0 alone writes logs and checkpoints.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "bertforge/data/loader.h"
#include "bertforge/dist/world.h"
#include "bertforge/model/bert.h"
#include "bertforge/text/tokenizer.h"
#include "bertforge/eval/evaluation.h"
#include "bertforge/train/optimizer.h"
#include "bertforge/train/resume_point.h"  // ResumePoint, bertforge_state.json
#include "bertforge/train/run_log.h"
#include "bertforge/train/schedule.h"
#include "bertforge/train/trainer_state.h"
#include "bertforge/train/training_args.h"

namespace bertforge::train {

struct TrainerInputs {
  model::BertForPreTraining model{nullptr};
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

  const TrainerState& state() const { return state_; }
  std::int64_t max_steps() const { return max_steps_; }

 private:
  struct StepResult {
    std::int64_t step = 0;      // steps of this phase done, this one included
    double loss = 0, grad_norm = 0;     // both read in the step's one host read
    double mlm_loss = 0, nsp_loss = 0;  // the loss's two terms, each weighted as in the loss
    bool has_nsp = false;               // the data has sentence labels
    bool finite = true;         // loss and gradient norm are finite
    bool applied = true;        // false: nan_policy skip left the weights as they were
    bool epoch_ended = false;   // the step's batches crossed the end of an epoch
    bool stop = false;          // SIGINT/SIGTERM reached some rank
    StepStats stats;
  };
  struct LossWeight {
    double mlm = 0, nsp = 0;
  };
  StepResult train_step();
  std::int64_t local_step() const { return state_.global_step - in_.phase_start_step; }
  std::string nonfinite_what(const StepResult& r) const;
  void skip_or_stop(const StepResult& r);
  void roll_back(const StepResult& r);
  std::vector<LossWeight> loss_weights(const std::vector<data::Batch>& micro);
  at::Tensor weighted_loss(const model::BertForPreTrainingOutput& out, const LossWeight& w);
  data::Batch next_batch(bool& epoch_ended);
  void sync_gradients();
  void log_train(const StepResult& r);
  void save_checkpoint();
  void track_best(const nlohmann::json& metrics);
  bool due(const std::string& strategy, std::int64_t every, const StepResult& r) const;
  void finish(double runtime_s);
  void verify_parameters();

  TrainingArguments args_;
  TrainerInputs in_;
  eval::ModelMode mode_;  // training mode with the sparse MLM head while this Trainer exists
  std::unique_ptr<dist::World> own_world_;
  std::vector<NamedTensor> params_;
  std::unique_ptr<Optimizer> optimizer_;
  Schedule schedule_;
  TrainerState state_;
  std::unique_ptr<RunLog> log_;
  std::int64_t steps_per_epoch_ = 1, max_steps_ = 0;
  double flos_per_token_ = 0;
  double run_loss_sum_ = 0;             // over the steps this process ran (HF's train_loss)
  std::int64_t run_steps_ = 0, run_samples_ = 0;
  double loss_since_log_ = 0, mlm_since_log_ = 0, nsp_since_log_ = 0;
  std::int64_t steps_since_log_ = 0;
  std::int64_t dumped_ = 0;  // batches written to dump_batches
  double lr_scale_ = 1;                           // nan_policy rollback
  std::int64_t nonfinite_in_a_row_ = 0, skipped_steps_ = 0, rollbacks_since_save_ = 0;
  std::vector<std::int64_t> inject_nonfinite_;    // BERTFORGE_FAULT_NONFINITE_STEPS
};

// The optimizer TrainingArguments describe (optim, adam_beta1/2, adam_epsilon, weight_decay).
OptimizerOptions optimizer_options(const TrainingArguments& args);

}  // namespace bertforge::train
