// `bertforge mlm-demo --model DIR "text"`: the reference's closing demo (infer/mlm_demo.h): the text masked
// as in pre-training, what the model predicts, and its accuracy on the masked tokens.
#include <cstdio>
#include <limits>

#include "bertforge/cli/commands.h"
#include "bertforge/cli/options.h"
#include "bertforge/infer/mlm_demo.h"
#include "bertforge/model/device.h"

namespace bertforge::cli {
namespace {

struct MlmDemoCli {
  std::string model, tokenizer, text, device;
  infer::MlmDemoOptions options;
};

int run(const MlmDemoCli& o) {
  infer::ModelDir m = infer::open_model_dir(o.model, o.tokenizer, model::parse_device(o.device));
  infer::MlmDemo r = infer::mlm_demo(m, o.text, o.options);
  std::printf("Input:  %s\nOutput: %s\n", r.input.c_str(), r.output.c_str());
  if (r.masked == 0) {
    std::printf("no token of the %lld was masked; try another --seed or a longer text\n",
                static_cast<long long>(r.tokens));
    return 0;
  }
  std::printf("masked %lld of %lld tokens; predicted %lld of them: accuracy %.1f%%\n",
              static_cast<long long>(r.masked), static_cast<long long>(r.tokens), static_cast<long long>(r.correct),
              100.0 * static_cast<double>(r.correct) / static_cast<double>(r.masked));
  return 0;
}

}  // namespace

Command add_mlm_demo(CLI::App& parent) {
  auto o = std::make_shared<MlmDemoCli>();
  auto* app = parent.add_subcommand("mlm-demo", "mask a text as in pre-training and show the model's predictions");
  app->add_option("--model", o->model, "model folder (config.json + model.safetensors [+ tokenizer])")->required();
  add_tokenizer(app, o->tokenizer, " (default: the model folder)");
  app->add_option("text", o->text, "the text to mask")->required();
  app->add_option("--mlm_probability", o->options.mlm_probability, "share of tokens selected")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app->add_option("--seed", o->options.seed, "seed of the masking")->capture_default_str();
  app->add_option("--shown", o->options.shown, "tokens decoded for display")->capture_default_str()
      ->check(within({1, std::numeric_limits<double>::infinity()}));
  add_device(app, o->device);
  return {app, [o] { return run(*o); }};
}

}  // namespace bertforge::cli
