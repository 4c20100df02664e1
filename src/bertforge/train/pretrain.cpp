#include "bertforge/train/pretrain.h"

#include <ATen/Context.h>
#include <c10/core/Device.h>

#include <filesystem>
#include <fstream>

#include "bertforge/data/hf_dataset.h"
#include "bertforge/data/loader.h"
#include "bertforge/data/prepare.h"
#include "bertforge/dist/world.h"
#include "bertforge/model/device.h"
#include "bertforge/model/pretrained.h"
#include "bertforge/text/save_tokenizer.h"
#include "bertforge/train/checkpoint.h"
#include "bertforge/train/trainer.h"
#include "bertforge/util/error.h"

namespace fs = std::filesystem;

namespace bertforge::train {

namespace {

// A prepared folder, or an HF save_to_disk dataset of token ids (the reference's), imported once into
// output_dir/prepared/<name> with the tokenizer's special ids; its ids are checked against the vocabulary.
// Distributed: rank 0 imports while the others wait (output_dir is shared, as checkpoints need).
std::shared_ptr<const data::ShardSet> open_data(const std::string& path, const PretrainSpec& spec, dist::World& world) {
  if (path.empty()) throw Error("train_data: required (a folder made by `bertforge prepare`, or an HF dataset)");
  if (!fs::exists(path)) fail_at(path, 0, "no such data folder");
  if (!fs::exists(fs::path(path) / "state.json")) return std::make_shared<const data::ShardSet>(path);
  if (!data::is_tokenized_hf(path))
    fail_at(path, 0, "an HF dataset without an input_ids column: run `bertforge prepare` on its text first");
  if (spec.tokenizer.empty())
    fail_at(path, 0, "an HF dataset of ids: give --tokenizer (its vocab.txt or folder) to check the ids against");
  std::string name = fs::path(path).lexically_normal().filename().string();
  if (name.empty()) name = fs::path(path).lexically_normal().parent_path().filename().string();
  fs::path cache = fs::path(spec.args.output_dir) / "prepared" / name;
  if (world.is_main() && !fs::exists(cache / "manifest.json")) {
    fs::remove_all(cache);
    auto tokenizer = text::Tokenizer::from_pretrained(spec.tokenizer);
    text::save_pretrained(tokenizer, cache.string());
    data::import_hf(path, cache.string(), data::shard_meta(tokenizer, data::SentenceTask::nsp));
  }
  world.barrier();
  return std::make_shared<const data::ShardSet>(cache.string());
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

// The checks HF leaves to a device-side assert in the middle of a run.
void check_data_fits_model(const data::ShardSet& d, const model::BertConfig& c, const std::string& path) {
  const data::ShardMeta& m = d.meta();
  if (m.vocab_size != 0 && static_cast<std::int64_t>(m.vocab_size) != c.vocab_size)
    fail_at(path, 0, "vocabulary size " + std::to_string(m.vocab_size) + " does not match the model's vocab_size " +
                         std::to_string(c.vocab_size));
  for (auto [name, id] : {std::pair{"cls", m.special.cls}, {"sep", m.special.sep}, {"pad", m.special.pad},
                          {"mask", m.special.mask}, {"unk", m.special.unk}})
    if (id < 0 || id >= c.vocab_size)
      fail_at(path, 0, std::string("special token id ") + name + "=" + std::to_string(id) +
                           " is outside the model's vocabulary (vocab_size " + std::to_string(c.vocab_size) + ")");
  std::uint32_t longest = 0;
  for (std::uint64_t i = 0; i < d.size(); ++i) longest = std::max(longest, d.length(i));
  if (longest > c.max_position_embeddings)
    fail_at(path, 0, "a sequence of " + std::to_string(longest) + " tokens exceeds the model's max_position_embeddings " +
                         std::to_string(c.max_position_embeddings));
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
                                          bool train, const dist::World& world) {
  data::LoaderOptions o;
  o.batch_size = static_cast<int>(train ? a.per_device_train_batch_size : a.per_device_eval_batch_size);
  o.shuffle = train;
  o.seed = static_cast<std::uint64_t>(a.seed);
  o.drop_last_batch = a.dataloader_drop_last;
  o.even_shards = train;  // every rank takes each training step; evaluation counts each sequence once
  o.world_size = world.size();
  o.rank = world.rank();
  if (!train) o.prefetch = 0;
  return std::make_shared<data::Loader>(std::move(d), o);
}

std::string resume_checkpoint(const TrainingArguments& a) {
  const std::string& r = a.resume_from_checkpoint;
  if (r.empty() || r == "false" || r == "False") return "";
  if (r == "latest" || r == "true" || r == "True") {
    auto last = last_checkpoint(a.output_dir);
    if (!last) fail_at(a.output_dir, 0, "No valid checkpoint found in output directory");
    return *last;
  }
  if (!fs::is_directory(r)) fail_at(r, 0, "resume_from_checkpoint: no such checkpoint folder");
  return r;
}

void check_output_dir(const TrainingArguments& a, bool resuming) {
  if (resuming || a.overwrite_output_dir) return;
  if (auto last = last_checkpoint(a.output_dir))
    fail_at(a.output_dir, 0, "already holds " + fs::path(*last).filename().string() +
                                 "; continue with --resume_from_checkpoint latest, or start afresh with "
                                 "--overwrite_output_dir");
}

}  // namespace

void load_recipe(const std::string& path, PretrainSpec& spec) {
  std::ifstream in(path);
  if (!in) fail_at(path, 0, "cannot read recipe");
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("phases") || !j["phases"].is_array())
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
  std::string checkpoint = resume_checkpoint(spec.args);
  check_output_dir(spec.args, !checkpoint.empty());
  c10::Device device = model::parse_device(spec.device);
  dist::WorldOptions wo;
  wo.timeout = std::chrono::seconds(spec.args.ddp_timeout);
  wo.device = device.is_cuda() ? "cuda" : "cpu";
  auto world = dist::from_environment(wo);
  if (device.is_cuda() && world->size() > 1) device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(world->local_rank()));
  fs::create_directories(spec.args.output_dir);
  if (!spec.dump_batches.empty()) fs::create_directories(spec.dump_batches);
  if (world->is_main()) remove_partial_checkpoints(spec.args.output_dir);
  ResumePoint from = checkpoint.empty() ? ResumePoint{} : load_resume_point(checkpoint + "/bertforge_state.json");
  if (from.phase >= static_cast<int>(phases.size()))
    fail_at(checkpoint, 0, "belongs to phase " + std::to_string(from.phase) + " but the recipe has fewer phases");

  model::BertForPreTraining model{nullptr};
  std::int64_t start_step = from.phase_start_step;
  TrainerState previous;
  for (int i = from.phase; i < static_cast<int>(phases.size()); ++i) {
    TrainingArguments args = spec.args;
    args.update(phases[i].overrides, "recipe phase " + std::to_string(i));
    args.validate();
    auto train_data = open_data(phases[i].train_data, spec, *world);
    if (!model) model = make_model(spec.model, *train_data, args.seed);
    check_data_fits_model(*train_data, model->config, phases[i].train_data);
    std::shared_ptr<data::Loader> eval;
    if (!phases[i].eval_data.empty()) {
      auto eval_data = open_data(phases[i].eval_data, spec, *world);
      check_data_fits_model(*eval_data, model->config, phases[i].eval_data);
      eval = make_loader(eval_data, args, false, *world);
    }
    Trainer trainer(args, {model, make_loader(train_data, args, true, *world), eval, world.get(), device, i, start_step,
                           spec.quiet, spec.verify_parameters, find_tokenizer(spec, *train_data, phases[i].train_data), spec.dump_batches});
    if (i == from.phase && !checkpoint.empty()) trainer.resume(checkpoint);
    else if (i > from.phase) trainer.carry_over(previous);
    else if (fs::exists(fs::path(spec.model) / "optimizer.pt") && args.optim.rfind("adam", 0) == 0)
      trainer.import_optimizer((fs::path(spec.model) / "optimizer.pt").string());
    if (trainer.train() == TrainOutcome::Stopped) return 0;
    start_step = trainer.state().global_step;
    previous = trainer.state();
  }
  return 0;
}

}  // namespace bertforge::train
