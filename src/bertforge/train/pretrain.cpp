#include "bertforge/train/pretrain.h"

#include <ATen/Context.h>
#include <c10/core/Device.h>

#include <csignal>
#include <filesystem>
#include <optional>

#include "bertforge/data/loader.h"
#include "bertforge/data/prepare.h"
#include "bertforge/dist/world.h"
#include "bertforge/model/device.h"
#include "bertforge/model/pretrained.h"
#include "bertforge/train/checkpoint.h"
#include "bertforge/train/dataset.h"
#include "bertforge/train/stop_signal.h"
#include "bertforge/train/trainer.h"
#include "bertforge/util/error.h"
#include "bertforge/util/folder_lock.h"
#include "bertforge/util/json_file.h"
#include "bertforge/util/messages.h"

namespace fs = std::filesystem;

namespace bertforge::train {

namespace {

// Prepared folders as they are; HF datasets of ids imported once into output_dir/prepared/<name>.
std::shared_ptr<const data::ShardSet> open_data(const std::string& path, const PretrainSpec& spec, dist::World& world) {
  std::string name = fs::path(path).lexically_normal().filename().string();
  if (name.empty()) name = fs::path(path).lexically_normal().parent_path().filename().string();
  return open_dataset(path, spec.tokenizer, (fs::path(spec.args.output_dir) / "prepared" / name).string(), world);
}

bool has_tokenizer(const fs::path& dir) {
  return fs::is_directory(dir) && (fs::exists(dir / "tokenizer.json") || fs::exists(dir / "vocab.txt"));
}

// The tokenizer each checkpoint carries: --tokenizer, else the one `prepare` wrote beside the training data,
// else the model folder's; null when there is none. Its vocabulary must be the one the data was made with.
std::shared_ptr<const text::Tokenizer> find_tokenizer(const PretrainSpec& spec, const data::ShardSet& d,
                                                      const std::string& data_path) {
  std::string source = spec.tokenizer;
  if (source.empty() && has_tokenizer(data_path)) source = data_path;
  if (source.empty() && has_tokenizer(spec.model)) source = spec.model;
  if (source.empty()) return nullptr;
  auto tokenizer = std::make_shared<const text::Tokenizer>(text::Tokenizer::from_pretrained(source));
  std::uint64_t hash = data::shard_meta(*tokenizer, d.meta().task).vocab_hash;
  if (d.meta().vocab_hash != 0 && hash != d.meta().vocab_hash)
    fail_at(source, 0, "not the vocabulary " + data_path + " was prepared with (pass the tokenizer it was made with as --tokenizer)");
  return tokenizer;
}

// A preset takes its vocabulary size from the data; a config.json or model folder must match it.
model::BertForPreTraining make_model(const std::string& spec, const data::ShardSet& d, std::int64_t seed) {
  at::manual_seed(seed);  // HF Trainer seeds before building the model: same seed, same initial weights
  if (fs::is_directory(spec)) {
    if (!fs::exists(fs::path(spec) / "config.json")) fail_at(spec, 0, "no config.json in this model folder");
    return model::from_pretrained(spec).model;
  }
  model::BertConfig c = model::BertConfig::preset_or_file(spec);
  bool preset = !fs::exists(spec);
  if (preset && d.meta().vocab_size) c.vocab_size = d.meta().vocab_size;
  return model::BertForPreTraining(c);
}

std::shared_ptr<data::Loader> make_loader(std::shared_ptr<const data::ShardSet> d, const TrainingArguments& a,
                                          bool train, const dist::World& world, c10::Device device) {
  data::LoaderOptions o;
  o.batch_size = static_cast<int>(train ? a.per_device_train_batch_size : a.per_device_eval_batch_size);
  o.sampling = train ? data::sampling_from_name(a.train_sampling_strategy) : data::Sampling::sequential;
  o.group_size = o.batch_size * static_cast<int>(a.gradient_accumulation_steps);
  o.seed = static_cast<std::uint64_t>(a.seed);
  o.drop_last_batch = a.dataloader_drop_last;
  o.even_shards = train;  // every rank takes each training step; evaluation counts each sequence once
  o.world_size = world.size();
  o.rank = world.rank();
  if (!train) o.prefetch = 0;
  o.pin_memory = device.is_cuda() && a.dataloader_pin_memory;
  return std::make_shared<data::Loader>(std::move(d), o);
}

// The checkpoint to resume from ("" for none), verified (see verify_checkpoint). "latest" takes the newest
// checkpoint that verifies, saying which newer ones failed and why; rank 0 chooses and the others follow.
std::string resume_checkpoint(const TrainingArguments& a, dist::World& world) {
  const std::string& r = a.resume_from_checkpoint;
  if (r.empty() || r == "false" || r == "False") return "";
  if (r != "latest" && r != "true" && r != "True") {
    if (!fs::is_directory(r)) fail_at(r, 0, "resume_from_checkpoint: no such checkpoint folder");
    if (world.is_main()) verify_checkpoint(r);
    return r;
  }
  double chosen = 0;  // the other ranks add 0 to rank 0's choice
  if (world.is_main()) {
    chosen = -1;
    auto all = list_checkpoints(a.output_dir);
    if (all.empty()) fail_at(a.output_dir, 0, "No valid checkpoint found in output directory");
    std::string first_error;
    for (auto c = all.rbegin(); c != all.rend() && chosen < 0; ++c) {
      try {
        verify_checkpoint(*c);
        chosen = static_cast<double>(std::stoll(fs::path(*c).filename().string().substr(11)));
        if (c != all.rbegin()) warn("resuming from " + *c + ", the newest checkpoint that verifies");
      } catch (const Error& e) {
        warn(std::string("skipping a checkpoint that does not verify: ") + e.what());
        if (first_error.empty()) first_error = e.what();
      }
    }
    if (chosen < 0) fail_at(a.output_dir, 0, "no checkpoint verifies (the newest: " + first_error + ")");
  }
  chosen = world.sum({chosen})[0];
  return (fs::path(a.output_dir) / checkpoint_name(static_cast<std::int64_t>(chosen))).string();
}

void check_output_dir(const TrainingArguments& a, bool resuming) {
  if (resuming || a.overwrite_output_dir) return;
  if (auto last = last_checkpoint(a.output_dir))
    fail_at(a.output_dir, 0, "already holds " + fs::path(*last).filename().string() +
                                 "; continue with --resume_from_checkpoint latest, or start afresh with "
                                 "--overwrite_output_dir");
}

// Every phase's arguments, before any of them trains: a mistake in the last phase costs no training time.
void check_phase(const TrainingArguments& base, const PhaseSpec& phase, std::size_t i, std::size_t phases) {
  TrainingArguments args = base;
  const std::string where = phases > 1 ? " (recipe phase " + std::to_string(i) + ")" : "";
  args.update(phase.overrides, "recipe phase " + std::to_string(i));
  args.validate();
  if (phase.train_data.empty())
    throw UsageError("--train_data: required" + where + " (a folder made by `bertforge prepare`, or an HF dataset)");
  // HF's Trainer refuses this too: evaluating without data would silently never happen.
  if (phase.eval_data.empty() && args.eval_strategy != "no")
    throw UsageError("--eval_strategy: '" + args.eval_strategy + "' needs evaluation data" + where +
                     " (give --eval_data, or --eval_strategy no)");
}

}  // namespace

void load_recipe(const std::string& path, PretrainSpec& spec) {
  nlohmann::json j = read_json_file(path, "recipe");
  if (!j.contains("phases") || !j["phases"].is_array())
    fail_at(path, 0, "a recipe is a JSON object with a \"phases\" array");
  if (j.contains("model")) spec.model = j["model"].get<std::string>();
  for (auto phase : j["phases"]) {
    PhaseSpec p;
    p.train_data = phase.value("train_data", spec.train_data);
    p.eval_data = phase.value("eval_data", spec.eval_data);
    phase.erase("train_data");
    phase.erase("eval_data");
    TrainingArguments check = spec.args;
    check.update(phase, path);  // unknown keys fail here, naming the recipe
    p.overrides = phase;
    spec.phases.push_back(p);
  }
  if (spec.phases.empty()) fail_at(path, 0, "the recipe lists no phase");
}

int run_pretraining(const PretrainSpec& spec) {
  std::vector<PhaseSpec> phases = spec.phases;
  if (phases.empty()) phases.push_back({spec.train_data, spec.eval_data, nlohmann::json::object()});
  spec.args.validate();
  for (std::size_t i = 0; i < phases.size(); ++i) check_phase(spec.args, phases[i], i, phases.size());
  c10::Device device = model::parse_device(spec.device);
  dist::WorldOptions wo;
  wo.timeout = std::chrono::seconds(spec.args.ddp_timeout);
  wo.device = device.is_cuda() ? "cuda" : "cpu";
  auto world = dist::from_environment(wo);
  if (device.is_cuda() && world->size() > 1) device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(world->local_rank()));
  const std::string& out = spec.args.output_dir;
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) fail_at(out, 0, "cannot create output_dir: " + ec.message());
  if (!spec.dump_batches.empty()) fs::create_directories(spec.dump_batches);
  // One run per output_dir (rank 0 holds it for a distributed run), taken before anything in it is read.
  std::optional<FolderLock> lock;
  if (world->is_main()) lock.emplace(out);
  if (lock && !lock->took_over().empty()) warn("took over the lock of " + lock->took_over() + ", which no longer runs");
  std::string checkpoint = resume_checkpoint(spec.args, *world);
  check_output_dir(spec.args, !checkpoint.empty());
  if (world->is_main() && checkpoint.empty() && spec.args.overwrite_output_dir) {
    const std::string aside = set_aside_previous_run(out);
    if (!aside.empty())
      warn("overwrite_output_dir: moved the previous run in " + out + " to " + aside +
           " (out of reach of resume and plots; delete it when no longer needed)");
  }
  world->barrier();
  if (world->is_main()) remove_partial_checkpoints(out);
  ResumePoint from = checkpoint.empty() ? ResumePoint{} : load_resume_point(checkpoint + "/bertforge_state.json");
  if (from.phase >= static_cast<int>(phases.size()))
    fail_at(checkpoint, 0, "belongs to phase " + std::to_string(from.phase) + " but the recipe has fewer phases");

  model::BertForPreTraining model{nullptr};
  std::int64_t start_step = from.phase_start_step;
  TrainerState previous;
  for (int i = from.phase; i < static_cast<int>(phases.size()); ++i) {
    TrainingArguments args = spec.args;
    args.update(phases[i].overrides, "recipe phase " + std::to_string(i));
    auto train_data = open_data(phases[i].train_data, spec, *world);
    if (!model) model = make_model(spec.model, *train_data, args.seed);
    check_fits_model(*train_data, model->config, phases[i].train_data);
    std::shared_ptr<data::Loader> eval;
    if (!phases[i].eval_data.empty()) {
      auto eval_data = open_data(phases[i].eval_data, spec, *world);
      check_fits_model(*eval_data, model->config, phases[i].eval_data);
      eval = make_loader(eval_data, args, false, *world, device);
    }
    Trainer trainer(args, {model, make_loader(train_data, args, true, *world, device), eval, world.get(), device, i, start_step,
                           spec.quiet, spec.verify_parameters, find_tokenizer(spec, *train_data, phases[i].train_data), spec.dump_batches});
    if (i == from.phase && !checkpoint.empty()) trainer.resume(checkpoint);
    else if (i > from.phase) trainer.carry_over(previous);
    else if (fs::exists(fs::path(spec.model) / "optimizer.pt") && args.optim.rfind("adam", 0) == 0)
      trainer.import_optimizer((fs::path(spec.model) / "optimizer.pt").string());
    if (trainer.train() == TrainOutcome::Stopped) {
      // 128 + N as a shell reports a process killed by N, so `pretrain && export` does not go on with an
      // unfinished model. A rank stopped because another rank got the signal has none of its own: SIGTERM.
      int sig = StopSignal::signal_number();
      return 128 + (sig ? sig : SIGTERM);
    }
    start_step = trainer.state().global_step;
    previous = trainer.state();
  }
  return 0;
}

}  // namespace bertforge::train
