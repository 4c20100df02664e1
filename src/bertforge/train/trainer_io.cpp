// The Trainer's checkpoint side: save, resume, and the end of a run (final model, state, plot).
#include <cmath>
#include <filesystem>
#include <regex>

#include "bertforge/model/pretrained.h"
#include "bertforge/text/save_tokenizer.h"
#include "bertforge/train/checkpoint.h"
#include "bertforge/train/plot.h"
#include "bertforge/train/trainer.h"
#include "bertforge/util/checksum.h"
#include "bertforge/util/error.h"
#include "bertforge/util/json_file.h"

namespace fs = std::filesystem;

namespace bertforge::train {

namespace {
constexpr int kResumeFormat = 2;  // 2: "files" with each file's size and CRC-32

std::int64_t non_negative(const nlohmann::json& j, const char* key, const std::string& path, const std::string& field) {
  if (!j.contains(key) || !j[key].is_number_integer())
    fail_at(path, 0, field + ": missing or not an integer (a damaged checkpoint)");
  const std::int64_t v = j[key].get<std::int64_t>();
  if (v < 0) fail_at(path, 0, field + " is " + std::to_string(v) + ", must be >= 0 (a damaged checkpoint)");
  return v;
}
}  // namespace

void save_resume_point(const std::string& path, ResumePoint p) {
  const fs::path folder = fs::path(path).parent_path();
  p.files = nlohmann::json::object();
  for (const auto& e : fs::directory_iterator(folder))
    if (e.is_regular_file() && e.path() != fs::path(path))
      p.files[e.path().filename().string()] = {{"bytes", e.file_size()}, {"crc32", crc32_file(e.path().string())}};
  write_json_file(path, {{"format", "bertforge-resume"},
                         {"version", kResumeFormat},
                         {"phase", p.phase},
                         {"phase_start_step", p.phase_start_step},
                         {"loader", {{"epoch", p.loader.epoch}, {"batch", p.loader.batch}}},
                         {"learning_rate_scale", p.lr_scale},
                         {"files", p.files}});
}

ResumePoint load_resume_point(const std::string& path) {
  if (!fs::exists(path)) fail_at(path, 0, "missing (not a bertforge checkpoint? HF folders continue with --model DIR)");
  nlohmann::json j = read_json_file(path, "bertforge resume file");
  if (j.value("format", "") != "bertforge-resume") fail_at(path, 0, "not a bertforge resume file");
  const int version = j.value("version", 0);
  if (version != 1 && version != kResumeFormat)
    fail_at(path, 0, "resume format version " + std::to_string(version) + " is not supported");
  ResumePoint p;
  p.phase = static_cast<int>(non_negative(j, "phase", path, "phase"));
  p.phase_start_step = non_negative(j, "phase_start_step", path, "phase_start_step");
  if (!j.contains("loader") || !j["loader"].is_object()) fail_at(path, 0, "loader: missing (a damaged checkpoint)");
  p.loader.epoch = static_cast<std::uint64_t>(non_negative(j["loader"], "epoch", path, "loader.epoch"));
  p.loader.batch = static_cast<std::uint64_t>(non_negative(j["loader"], "batch", path, "loader.batch"));
  p.lr_scale = j.value("learning_rate_scale", 1.0);
  if (!(p.lr_scale > 0 && p.lr_scale <= 1)) fail_at(path, 0, "learning_rate_scale must be in (0, 1] (a damaged checkpoint)");
  if (version == 1) return p;
  if (!j.contains("files") || !j["files"].is_object() || j["files"].empty())
    fail_at(path, 0, "files: missing (a damaged checkpoint)");
  for (const auto& [name, f] : j["files"].items()) {
    non_negative(f, "bytes", path, "files." + name + ".bytes");
    non_negative(f, "crc32", path, "files." + name + ".crc32");
  }
  p.files = j["files"];
  return p;
}

ResumePoint verify_checkpoint(const std::string& checkpoint) {
  const std::string state_path = checkpoint + "/bertforge_state.json";
  ResumePoint p = load_resume_point(state_path);
  for (const auto& [name, f] : p.files.items()) {
    const std::string file = checkpoint + "/" + name;
    std::error_code ec;
    const auto bytes = fs::file_size(file, ec);
    if (ec) fail_at(file, 0, "missing (listed in bertforge_state.json)");
    if (bytes != f["bytes"].get<std::uint64_t>())
      fail_at(file, 0, std::to_string(bytes) + " bytes, bertforge_state.json says " + f["bytes"].dump() + " (truncated?)");
    if (crc32_file(file) != f["crc32"].get<std::uint32_t>())
      fail_at(file, 0, "checksum differs from bertforge_state.json (the file is corrupt)");
  }
  const std::string trainer_path = checkpoint + "/trainer_state.json";
  TrainerState s = TrainerState::load(trainer_path);
  auto bad = [&](const std::string& field, const std::string& what) { fail_at(trainer_path, 0, field + " " + what); };
  if (s.global_step < 0) bad("global_step", "is " + std::to_string(s.global_step) + ", must be >= 0");
  std::smatch m;
  const std::string name = fs::path(checkpoint).lexically_normal().filename().string();
  static const std::regex numbered(R"(^checkpoint-(\d+)$)");
  if (std::regex_match(name, m, numbered) && std::to_string(s.global_step) != m[1].str())
    bad("global_step", "is " + std::to_string(s.global_step) + " in a folder named " + name);
  if (s.global_step < p.phase_start_step)
    bad("global_step", "is " + std::to_string(s.global_step) + ", before the phase's start (step " +
                           std::to_string(p.phase_start_step) + " in bertforge_state.json)");
  if (!(s.epoch >= 0) || !std::isfinite(s.epoch)) bad("epoch", "is " + std::to_string(s.epoch) + ", must be >= 0");
  if (!(s.total_flos >= 0) || !std::isfinite(s.total_flos)) bad("total_flos", "must be a finite number >= 0");
  if (s.best_global_step && (*s.best_global_step < 0 || *s.best_global_step > s.global_step))
    bad("best_global_step", "is " + std::to_string(*s.best_global_step) + ", outside [0, global_step]");
  if (!s.log_history.is_array()) bad("log_history", "is not a list");
  return p;
}

void Trainer::save_checkpoint() {
  verify_parameters();  // every rank takes part, before rank 0 writes
  if (!in_.world->is_main()) return;
  std::string best;
  if (state_.best_global_step) {
    best = (fs::path(args_.output_dir) / checkpoint_name(*state_.best_global_step)).string();
    if (*state_.best_global_step == state_.global_step || fs::exists(best)) state_.best_model_checkpoint = best;
  }
  std::string dir = write_checkpoint(args_.output_dir, state_.global_step, [&](const std::string& folder) {
    model::save_pretrained(*in_.model, folder);
    if (in_.tokenizer) text::save_pretrained(*in_.tokenizer, folder);
    optimizer_->save(folder + "/optimizer_state.pt");
    save_rng_state(folder + "/rng_state.pt");
    write_json_file(folder + "/training_args.json", args_.to_json());
    state_.save(folder + "/trainer_state.json");
    save_resume_point(folder + "/bertforge_state.json", {in_.phase, in_.phase_start_step, in_.train->position(), lr_scale_});
  });
  rollbacks_since_save_ = 0;
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
  model::load_safetensors_weights(*in_.model, checkpoint + "/model.safetensors", report);
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

void Trainer::finish(double runtime_s) {
  if (args_.load_best_model_at_end && state_.best_model_checkpoint && fs::exists(*state_.best_model_checkpoint)) {
    model::LoadReport report;
    model::load_safetensors_weights(*in_.model, *state_.best_model_checkpoint + "/model.safetensors", report);
    log_->message("loaded the best model, " + *state_.best_model_checkpoint);
  }
  double steps = static_cast<double>(std::max<std::int64_t>(run_steps_, 1));
  log_->log({{"train_runtime", runtime_s},
             {"train_samples_per_second", static_cast<double>(run_samples_) / runtime_s},
             {"train_steps_per_second", steps / runtime_s},
             {"total_flos", state_.total_flos},
             {"train_loss", run_loss_sum_ / std::max(1.0, steps - static_cast<double>(skipped_steps_))},
             {"epoch", state_.epoch}});
  if (!in_.world->is_main()) return;
  model::save_pretrained(*in_.model, args_.output_dir);
  if (in_.tokenizer) text::save_pretrained(*in_.tokenizer, args_.output_dir);
  state_.save((fs::path(args_.output_dir) / "trainer_state.json").string());
  log_->message("wrote " + args_.output_dir + " and " + plot_losses(args_.output_dir));
}

}  // namespace bertforge::train
