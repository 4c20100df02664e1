#include "bertforge/train/pretrain.h"

#include <ATen/Context.h>
#include <c10/core/Device.h>

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "bertforge/data/loader.h"
#include "bertforge/data/prepare.h"
#include "bertforge/dist/world.h"
#include "bertforge/model/cpu_caps.h"
#include "bertforge/model/device.h"
#include "bertforge/model/linear.h"
#include "bertforge/model/pretrained.h"
#include "bertforge/train/checkpoint.h"
#include "bertforge/eval/dataset.h"
#include "bertforge/eval/evaluation.h"
#include "bertforge/train/plan.h"
#include "bertforge/train/run_dir.h"
#include "bertforge/train/stop_signal.h"
#include "bertforge/train/trainer.h"
#include "bertforge/util/error.h"
#include "bertforge/util/json_file.h"
#include "bertforge/util/messages.h"

namespace fs = std::filesystem;

namespace bertforge::train {

namespace {

// Prepared folders as they are; HF datasets of ids imported once into imports/<name> (output_dir/prepared, or
// a temporary folder for a dry run).
std::shared_ptr<const data::ShardSet> open_data(const std::string& path, const PretrainSpec& spec, dist::World& world,
                                                const fs::path& imports) {
  std::string name = fs::path(path).lexically_normal().filename().string();
  if (name.empty()) name = fs::path(path).lexically_normal().parent_path().filename().string();
  return eval::open_dataset(path, spec.tokenizer, (imports / name).string(), world);
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

data::CollatorOptions collator_options(const TrainingArguments& a) {
  data::CollatorOptions c;
  c.mlm_probability = a.mlm_probability;
  c.mask_replace_prob = a.mask_replace_prob;
  c.random_replace_prob = a.random_replace_prob;
  c.whole_word_mask = a.whole_word_mask;
  c.pad_to_multiple_of = static_cast<int>(a.pad_to_multiple_of);
  return c;
}

// Whole-word masking needs to know which ids are ## pieces: the tokenizer the data was prepared with.
std::vector<bool> word_continuations(const TrainingArguments& a, const text::Tokenizer* tokenizer) {
  if (!a.whole_word_mask) return {};
  if (!tokenizer)
    throw Error("--whole_word_mask: needs the tokenizer the data was prepared with (there is none beside the data "
                "or in the model folder: pass --tokenizer)");
  return data::continuation_table(*tokenizer);
}

std::shared_ptr<data::Loader> make_loader(std::shared_ptr<const data::ShardSet> d, const TrainingArguments& a,
                                          bool train, const dist::World& world, c10::Device device,
                                          std::vector<bool> continuation) {
  data::LoaderOptions o = loader_options(a, train, world, device);
  o.collator = collator_options(a);
  return std::make_shared<data::Loader>(std::move(d), o, std::move(continuation));
}

// Resuming with other masking would silently train on other targets than the checkpoint's run.
void check_masking_unchanged(const TrainingArguments& now, const std::string& checkpoint, bool allow) {
  std::string path = checkpoint + "/training_args.json";
  if (allow || !fs::exists(path)) return;
  nlohmann::json saved = TrainingArguments::from_json_file(path).to_json(), given = now.to_json();
  for (const auto& key : TrainingArguments::masking_keys())
    if (saved[key] != given[key])
      fail_at(path, 0, key + " was " + saved[key].dump() + " but is now " + given[key].dump() +
                           " (resume with the same value, or pass --allow_masking_change)");
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
  if (phase.eval_data.empty() && args.eval_on_start)
    throw UsageError("--eval_on_start: needs evaluation data" + where + " (give --eval_data)");
}

// One phase of the plan: its steps, tokens, memory, disk and time per step, printed; returns its seconds.
double plan_phase(const PretrainSpec& spec, const PhaseSpec& phase, std::size_t i, model::BertForPreTraining& model,
                  c10::Device device, const model::MatmulRates& rates, const fs::path& imports) {
  const int timed = 3;
  auto world = dist::single_process();
  TrainingArguments a = spec.args;
  a.update(phase.overrides, "recipe phase " + std::to_string(i));  // checked by check_phase
  auto data = open_data(phase.train_data, spec, *world, imports);
  if (!model) model = make_model(spec.model, *data, a.seed);
  eval::check_fits_model(*data, model->config, phase.train_data);
  auto tokenizer = eval::dataset_tokenizer(*data, phase.train_data, spec.tokenizer, spec.model);
  auto loader = make_loader(data, a, true, *world, device, word_continuations(a, tokenizer.get()));
  std::uint64_t tokens = 0;
  std::uint32_t longest = 0;
  for (std::uint64_t k = 0; k < data->size(); ++k) tokens += data->length(k), longest = std::max(longest, data->length(k));
  const std::int64_t per_epoch = a.steps_per_epoch(static_cast<std::int64_t>(loader->batches_per_epoch()));
  const std::int64_t steps = a.total_steps(per_epoch), sequences = a.per_device_train_batch_size * a.gradient_accumulation_steps;
  const double mean = static_cast<double>(tokens) / static_cast<double>(data->size());
  std::int64_t parameters = 0;
  for (const auto& p : model->parameters()) parameters += p.numel();
  std::int64_t width = longest;
  if (a.pad_to_multiple_of > 0) width = (width + a.pad_to_multiple_of - 1) / a.pad_to_multiple_of * a.pad_to_multiple_of;
  MemoryPlan m = estimate_memory(model->config, parameters, a.optim,
                                 {a.per_device_train_batch_size, width, a.mlm_probability, a.bf16});
  const Strategy save = a.choices().save;
  const std::int64_t saves = save == Strategy::no      ? 0
                             : save == Strategy::epoch ? (steps + per_epoch - 1) / per_epoch
                                                       : (steps + interval_steps(a.save_steps, steps) - 1) / interval_steps(a.save_steps, steps);
  const std::int64_t kept = a.save_total_limit > 0 ? std::min(saves, a.save_total_limit) : saves;
  const double checkpoint = checkpoint_bytes(parameters, a.optim);
  TrainerInputs in;
  in.task = std::make_shared<PretrainTask>(model);
  in.train = loader;
  in.device = device;
  in.quiet = true;
  in.dry_run = true;
  const double step_s = Trainer(a, in).time_steps(timed);
  std::printf("phase %zu: %s\n", i, phase.train_data.c_str());
  std::printf("  model            %lld parameters (%s)\n", static_cast<long long>(parameters), spec.model.c_str());
  std::printf("  data             %llu sequences, %.1f tokens on average, longest %u\n",
              static_cast<unsigned long long>(data->size()), mean, longest);
  std::printf("  steps            %lld per epoch, %lld in all (%lld sequences per step: batch %lld x accumulation %lld)\n",
              static_cast<long long>(per_epoch), static_cast<long long>(steps), static_cast<long long>(sequences),
              static_cast<long long>(a.per_device_train_batch_size), static_cast<long long>(a.gradient_accumulation_steps));
  std::printf("  tokens per step  %.0f on average (padded batches: at most %lld)\n", mean * static_cast<double>(sequences),
              static_cast<long long>(sequences * width));
  std::printf("  memory           %s: weights %s, gradients %s, optimizer state %s (%s), activations %s at batch %lld x %lld%s\n",
              human_bytes(m.total()).c_str(), human_bytes(m.weights).c_str(), human_bytes(m.gradients).c_str(),
              human_bytes(m.optimizer_state).c_str(), a.optim.c_str(), human_bytes(m.activations).c_str(),
              static_cast<long long>(a.per_device_train_batch_size), static_cast<long long>(width), a.bf16 ? ", bf16" : "");
  std::printf("                   (activations: what autograd keeps per layer, Korthikanti et al. 2022, an upper bound)\n");
  std::printf("  disk             %s per checkpoint, %lld checkpoints saved, %lld kept: %s\n", human_bytes(checkpoint).c_str(),
              static_cast<long long>(saves), static_cast<long long>(kept), human_bytes(checkpoint * kept).c_str());
  std::printf("  time             %.3f s per step (mean of %d timed steps): %.0f s for %lld steps, evaluation not counted\n",
              step_s, timed, step_s * static_cast<double>(steps), static_cast<long long>(steps));
  if (device.is_cpu()) {  // the other dtype, scaled by the measured matmul rates (the GEMMs dominate a step)
    const double other = a.bf16 ? step_s * rates.bf16 / rates.fp32 : step_s * rates.fp32 / rates.bf16;
    std::printf("                   %s: about %.3f s per step (scaled by the matmul rates above)\n",
                a.bf16 ? "fp32" : "bf16", other);
  }
  return step_s * static_cast<double>(steps);
}

// --dry_run: each phase's steps, tokens, memory and disk, and an ETA from a few timed steps. Nothing is
// written: HF datasets of ids are imported into a temporary folder, removed afterwards.
int print_plan(const PretrainSpec& spec, const std::vector<PhaseSpec>& phases) {
  c10::Device device = model::parse_device(spec.device);
  fs::path imports = fs::temp_directory_path() / ("bertforge-plan-" + std::to_string(::getpid()));
  struct Cleanup {
    fs::path dir;
    ~Cleanup() { std::error_code ec; fs::remove_all(dir, ec); }
  } cleanup{imports};
  std::printf("plan for %s (dry run: nothing written), device %s\n", spec.args.output_dir.c_str(), device.str().c_str());
  model::MatmulRates rates;
  if (device.is_cpu()) {
    const model::CpuInfo cpu = model::cpu_info();
    rates = model::measure_matmul_rates();
    std::printf("cpu              %s\n                 matmul fp32 %.4f, bf16 %.4f TFLOP/s (measured now)%s\n",
                model::describe(cpu).c_str(), rates.fp32, rates.bf16,
                cpu.bf16_matrix() ? "" : "; no bf16 matrix instructions: --bf16 is slow here");
    std::printf("                 fp32 linear layers: %s\n", model::describe_cpu_gemm().c_str());
  }
  model::BertForPreTraining model{nullptr};
  double seconds = 0;
  for (std::size_t i = 0; i < phases.size(); ++i) seconds += plan_phase(spec, phases[i], i, model, device, rates, imports);
  std::printf("eta %.0f s (%.1f min) in all\n", seconds, seconds / 60);
  return 0;
}

// A phase's data, loaders and the rest of the Trainer's inputs; the model is built from the first phase's data.
TrainerInputs phase_inputs(const PretrainSpec& spec, const PhaseSpec& phase, const TrainingArguments& args,
                           model::BertForPreTraining& model, dist::World& world, c10::Device device) {
  const fs::path imports = fs::path(spec.args.output_dir) / "prepared";
  auto train_data = open_data(phase.train_data, spec, world, imports);
  if (!model) model = make_model(spec.model, *train_data, args.seed);
  eval::check_fits_model(*train_data, model->config, phase.train_data);
  TrainerInputs in;
  if (!phase.eval_data.empty()) {
    auto eval_data = open_data(phase.eval_data, spec, world, imports);
    eval::check_fits_model(*eval_data, model->config, phase.eval_data);
    auto eval_tokenizer = eval::dataset_tokenizer(*eval_data, phase.eval_data, spec.tokenizer, spec.model);
    in.eval = make_loader(eval_data, args, false, world, device, word_continuations(args, eval_tokenizer.get()));
  }
  in.tokenizer = eval::dataset_tokenizer(*train_data, phase.train_data, spec.tokenizer, spec.model);
  in.train = make_loader(train_data, args, true, world, device, word_continuations(args, in.tokenizer.get()));
  in.task = std::make_shared<PretrainTask>(model);
  in.world = &world;
  in.device = device;
  in.quiet = spec.quiet;
  in.verify_parameters = spec.verify_parameters;
  in.dump_batches = spec.dump_batches;
  in.loss_hook = fault_steps_from_environment();
  return in;
}

}  // namespace

int run_pretraining(const PretrainSpec& spec) {
  std::vector<PhaseSpec> phases = spec.phases;
  if (phases.empty()) phases.push_back({spec.train_data, spec.eval_data, nlohmann::json::object()});
  spec.args.validate();
  for (std::size_t i = 0; i < phases.size(); ++i) check_phase(spec.args, phases[i], i, phases.size());
  if (spec.dry_run) return print_plan(spec, phases);
  RunSetup run(spec.args, spec.device, spec.dump_batches);
  dist::World* world = run.world.get();
  const c10::Device device = run.device;
  const std::string& checkpoint = run.checkpoint;
  ResumePoint from = checkpoint.empty() ? ResumePoint{} : load_resume_point(checkpoint + "/bertforge_state.json");
  if (from.phase >= static_cast<int>(phases.size()))
    fail_at(checkpoint, 0, "belongs to phase " + std::to_string(from.phase) + " but the recipe has fewer phases");

  model::BertForPreTraining model{nullptr};
  std::int64_t start_step = from.phase_start_step;
  TrainerState previous;
  for (int i = from.phase; i < static_cast<int>(phases.size()); ++i) {
    TrainingArguments args = spec.args;
    args.update(phases[i].overrides, "recipe phase " + std::to_string(i));
    TrainerInputs in = phase_inputs(spec, phases[i], args, model, *world, device);
    in.phase = i;
    in.phase_start_step = start_step;
    Trainer trainer(args, in);
    if (i == from.phase && !checkpoint.empty()) {
      check_masking_unchanged(args, checkpoint, spec.allow_masking_change);
      trainer.resume(checkpoint);
    } else if (i > from.phase) {
      trainer.carry_over(previous);
    } else if (fs::exists(fs::path(spec.model) / "optimizer.pt") && args.optim.rfind("adam", 0) == 0) {
      trainer.import_optimizer((fs::path(spec.model) / "optimizer.pt").string());
    }
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
