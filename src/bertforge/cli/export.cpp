// `bertforge export --model CHECKPOINT --format hf OUT`: a checkpoint (or run folder) as a Hugging Face
// folder that AutoTokenizer, AutoModelForMaskedLM, BertForPreTraining and pipeline("fill-mask") load
// offline (infer/hf_folder.h); --head masked-lm for a folder BertForMaskedLM loads without a report.
#include <cstdio>

#include "bertforge/cli/commands.h"
#include "bertforge/cli/options.h"
#include "bertforge/infer/hf_folder.h"

namespace bertforge::cli {

Command add_export(CLI::App& parent) {
  struct Options {
    std::string model, tokenizer, format = "hf", head = "pretraining", out;
  };
  auto o = std::make_shared<Options>();
  auto* app = parent.add_subcommand("export", "write a checkpoint as a Hugging Face model folder");
  app->add_option("--model", o->model, "checkpoint or model folder (config.json + model.safetensors)")->required();
  add_tokenizer(app, o->tokenizer, " (default: the model folder)");
  app->add_option("--format", o->format, "output format")->capture_default_str()->check(CLI::IsMember({"hf"}));
  app->add_option("--head", o->head,
                  "pretraining (all weights: BertForPreTraining loads silently) or masked-lm (no pooler/NSP head: "
                  "AutoModelForMaskedLM and pipeline('fill-mask') load silently)")
      ->capture_default_str()
      ->check(CLI::IsMember({"pretraining", "masked-lm"}));
  app->add_option("out", o->out, "folder to write (new or empty: nothing in it is replaced)")->required();
  return {app, [o] {
            infer::ModelDir m = infer::open_model_dir(o->model, o->tokenizer, c10::kCPU);
            infer::write_hf_folder(m, o->out, o->head == "masked-lm" ? infer::Head::masked_lm : infer::Head::pretraining);
            std::printf("wrote %s\n", o->out.c_str());
            return 0;
          }};
}

}  // namespace bertforge::cli
