// The Trainer's checkpoint side: save, resume, and the end of a run (final model, state, plot).
#include <algorithm>
#include <filesystem>

#include "bertforge/model/pretrained.h"
#include "bertforge/text/save_tokenizer.h"
#include "bertforge/train/checkpoint.h"
#include "bertforge/train/plot.h"
#include "bertforge/train/trainer.h"
#include "bertforge/util/error.h"
#include "bertforge/util/json_file.h"

namespace fs = std::filesystem;

namespace bertforge::train {

bool Trainer::saves() const {
  return args_.save_on_each_node ? in_.world->local_rank() == 0 : in_.world->is_main();
}

void Trainer::save_checkpoint() {
  verify_parameters();  // every rank takes part, before rank 0 writes
  last_saved_step_ = state_.global_step;
  rollbacks_since_save_ = 0;
  if (!saves()) return;
  std::string best;
  if (state_.best_global_step) {
    best = (fs::path(args_.output_dir) / checkpoint_name(*state_.best_global_step)).string();
    if (*state_.best_global_step == state_.global_step || fs::exists(best)) state_.best_model_checkpoint = best;
  }
  std::string dir = write_checkpoint(args_.output_dir, state_.global_step, [&](const std::string& folder) {
    in_.task->save_pretrained(folder);
    if (in_.tokenizer) text::save_pretrained(*in_.tokenizer, folder);
    write_json_file(folder + "/training_args.json", args_.to_json());
    state_.save(folder + "/trainer_state.json");
    if (args_.save_only_model) return;
    optimizer_->save(folder + "/optimizer_state.pt");
    save_rng_state(folder + "/rng_state.pt");
    save_resume_point(folder + "/bertforge_state.json", {in_.phase, in_.phase_start_step, in_.train->position(), lr_scale_});
  });
  rotate_checkpoints(args_.output_dir, args_.save_total_limit, state_.best_model_checkpoint.value_or(""));
  log_->message("saved " + dir);
}

void Trainer::resume(const std::string& checkpoint) {
  ResumePoint p = load_resume_point(checkpoint + "/bertforge_state.json");
  if (p.phase != in_.phase) fail_at(checkpoint, 0, "belongs to phase " + std::to_string(p.phase));
  if (p.loader.batch > in_.train->batches_per_epoch())
    fail_at(checkpoint + "/bertforge_state.json", 0,
            "loader.batch is " + std::to_string(p.loader.batch) + ", beyond this run's " +
                std::to_string(in_.train->batches_per_epoch()) + " batches per epoch (other data or batch size?)");
  model::LoadReport report;
  model::load_safetensors_weights(model(), checkpoint + "/model.safetensors", report);
  if (!report.missing.empty()) fail_at(checkpoint, 0, "model.safetensors lacks " + report.missing.front());
  optimizer_->load(checkpoint + "/optimizer_state.pt");
  TrainerState saved = TrainerState::load(checkpoint + "/trainer_state.json");
  state_.global_step = saved.global_step;
  state_.epoch = saved.epoch;
  state_.log_history = saved.log_history;
  state_.total_flos = saved.total_flos;
  state_.best_metric = saved.best_metric;
  state_.best_global_step = saved.best_global_step;
  state_.best_model_checkpoint = saved.best_model_checkpoint;
  load_rng_state(checkpoint + "/rng_state.pt");
  in_.train->seek(p.loader);
  lr_scale_ = p.lr_scale;
  last_saved_step_ = state_.global_step;
  log_->message("resumed from " + checkpoint + " at step " + std::to_string(state_.global_step) + " (epoch " +
                std::to_string(p.loader.epoch) + ", batch " + std::to_string(p.loader.batch) + ")");
}

void Trainer::import_optimizer(const std::string& optimizer_pt) {
  std::int64_t step = optimizer_->load_torch(optimizer_pt);
  log_->message("continuing the optimizer state of " + optimizer_pt + " (PyTorch step " + std::to_string(step) + ")");
}

void Trainer::carry_over(const TrainerState& previous) {
  state_.log_history = previous.log_history;
  state_.total_flos = previous.total_flos;
}

// HF's _finalize_training: the summary entry (train_loss over every step of this run, the last window
// included), the best model loaded, and with save_total_limit 1 only the best checkpoint kept. Then what HF
// leaves to the caller's save_model(): the final model, tokenizer and state in output_dir, and the plot.
void Trainer::finish(double runtime_s) {
  run_loss_sum_ += window_.loss;
  const double steps = static_cast<double>(run_steps_);
  log_->log({{"train_runtime", runtime_s},
             {"train_samples_per_second", static_cast<double>(run_samples_) / runtime_s},
             {"train_steps_per_second", steps / runtime_s},
             {"total_flos", state_.total_flos},
             {"train_loss", run_loss_sum_ / std::max(steps, 0.001)},
             {"epoch", state_.epoch}});
  if (args_.load_best_model_at_end && state_.best_model_checkpoint && fs::exists(*state_.best_model_checkpoint)) {
    model::LoadReport report;
    model::load_safetensors_weights(model(), *state_.best_model_checkpoint + "/model.safetensors", report);
    log_->message("loaded the best model, " + *state_.best_model_checkpoint);
  }
  if (saves() && state_.best_model_checkpoint && args_.save_total_limit == 1)
    remove_checkpoints_except(args_.output_dir, *state_.best_model_checkpoint);
  if (!in_.world->is_main()) return;
  in_.task->save_pretrained(args_.output_dir);
  if (in_.tokenizer) text::save_pretrained(*in_.tokenizer, args_.output_dir);
  state_.save((fs::path(args_.output_dir) / "trainer_state.json").string());
  // A run may log no training loss at all (HF's logging_steps past its last step): then there is nothing to plot.
  const auto& h = state_.log_history;
  const bool losses = std::any_of(h.begin(), h.end(), [](const nlohmann::json& e) { return e.contains("loss"); });
  log_->message("wrote " + args_.output_dir +
                (losses ? " and " + plot_losses(args_.output_dir) : " (no training loss was logged: no plot)"));
}

}  // namespace bertforge::train
