// `bertforge evaluate --model DIR --dataset D`: eval loss, MLM loss, perplexity, MLM top-1/top-5 accuracy,
// NSP accuracy and throughput of a model on a prepared folder or an HF dataset of ids (opened and checked
// against the model as pretrain does: eval/dataset.h), with the loader's seeded masks, so that runs
// compare (eval/evaluation.h, the same pass the Trainer's eval steps run). --dump-batch writes the first
// masked batch as safetensors, for checking the loss against another implementation.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "bertforge/cli/commands.h"
#include "bertforge/cli/options.h"
#include "bertforge/data/prepare.h"
#include "bertforge/eval/dataset.h"
#include "bertforge/eval/evaluation.h"
#include "bertforge/infer/model_dir.h"
#include "bertforge/model/cpu_caps.h"
#include "bertforge/model/device.h"
#include "bertforge/model/pretrained.h"
#include "bertforge/util/error.h"
#include "bertforge/util/json_file.h"

namespace bertforge::cli {
namespace {

struct EvaluateCli {
  std::string model, dataset, device, tokenizer, dump_batch;
  data::LoaderOptions loader;
  std::uint64_t max_batches = 0;
  bool bf16 = false, json = false;
};

void dump_first_batch(data::Loader& loader, const std::string& path) {
  loader.seek({0, 0});
  auto b = loader.next();
  if (!b) throw Error("--dump_batch: the dataset has no batch to dump");
  eval::save_batch(*b, path);
}

// An HF dataset of ids is imported for this one evaluation, into a folder removed afterwards.
struct ScratchDir {
  std::filesystem::path path = std::filesystem::temp_directory_path() / ("bertforge-evaluate-" + std::to_string(getpid()));
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

int run(EvaluateCli& o) {
  c10::Device device = model::parse_device(o.device);
  model::prepare_cpu(o.bf16, device);
  model::BertForPreTraining m = model::from_pretrained(o.model, device).model;
  ScratchDir scratch;
  std::string tokenizer = o.tokenizer;  // for an HF dataset: the model folder's, unless given
  if (tokenizer.empty() && std::filesystem::exists(std::filesystem::path(o.dataset) / "state.json"))
    tokenizer = infer::find_tokenizer(o.model, "");
  auto shards = eval::open_dataset(o.dataset, tokenizer, scratch.path.string(), *dist::single_process());
  eval::check_fits_model(*shards, m->config, o.dataset);
  o.loader.sampling = data::Sampling::sequential;
  std::vector<bool> continuation;
  if (o.loader.collator.whole_word_mask) {  // which ids are ## pieces: the dataset's tokenizer knows
    auto words = eval::dataset_tokenizer(*shards, o.dataset, o.tokenizer, o.model);
    if (!words)
      throw Error("--whole_word_mask: needs the tokenizer the dataset was made with (there is none beside the "
                  "dataset or in the model folder: pass --tokenizer)");
    continuation = data::continuation_table(*words);
  }
  data::Loader loader(shards, o.loader, continuation);
  if (!o.dump_batch.empty()) dump_first_batch(loader, o.dump_batch);
  eval::EvalOptions eval;
  eval.device = device;
  eval.bf16 = o.bf16;
  eval.max_batches = o.max_batches;
  eval.progress = !o.json;
  nlohmann::json r = eval::evaluate(m, loader, eval);
  if (o.json) {
    std::printf("%s\n", dump_json(r, 2).c_str());
    return 0;
  }
  // For a person: four decimals are what a comparison of runs reads; --json keeps every digit. NaN and
  // Infinity are written as JSON (and Python) write them.
  for (const auto& [key, value] : r.items()) {
    if (value.is_number_float() && std::isfinite(value.get<double>()))
      std::printf("%-26s %.4f\n", key.c_str(), value.get<double>());
    else std::printf("%-26s %s\n", key.c_str(), dump_json(value).c_str());
  }
  return 0;
}

}  // namespace

Command add_evaluate(CLI::App& parent) {
  auto o = std::make_shared<EvaluateCli>();
  o->loader.prefetch = 2;
  auto* app = parent.add_subcommand("evaluate", "MLM/NSP loss, perplexity and accuracy of a model on a prepared dataset");
  app->add_option("--model", o->model, "model folder (config.json + model.safetensors)")->required();
  app->add_option("--dataset", o->dataset, "folder made by `bertforge prepare`, or an HF dataset of ids")->required();
  app->add_option("--per_device_eval_batch_size,--batch_size", o->loader.batch_size, "sequences per batch")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app->add_option("--seed", o->loader.seed, "seed of the masking (same seed, same masks)")->capture_default_str();
  add_masking_options(app, o->loader.collator);
  add_tokenizer(app, o->tokenizer, " the dataset was made with, for an HF dataset of ids and --whole_word_mask "
                "(none: the one beside the dataset, else the model folder's)");
  app->add_option("--max_batches", o->max_batches, "stop after this many batches (0: all)")->capture_default_str();
  add_bf16(app, o->bf16);
  add_device(app, o->device);
  add_bool(app, "--json", o->json, "print the metrics as JSON");
  app->add_option("--dump_batch", o->dump_batch, "write the first masked batch to this safetensors file");
  return {app, [o] { return run(*o); }};
}

}  // namespace bertforge::cli
