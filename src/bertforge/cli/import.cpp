// `bertforge import HF_DIR OUT`: a Hugging Face BERT folder (BertModel or BertForPreTraining keys, legacy
// names, untied decoder, fp16/bf16 weights) as a bertforge model folder: the same clean layout export
// writes (infer/hf_folder.h), ready for `bertforge pretrain --model OUT` and the inference commands.
#include <cstdio>

#include "bertforge/cli/commands.h"
#include "bertforge/cli/options.h"
#include "bertforge/infer/hf_folder.h"

namespace bertforge::cli {

Command add_import(CLI::App& parent) {
  struct Options {
    std::string source, tokenizer, out;
  };
  auto o = std::make_shared<Options>();
  auto* app = parent.add_subcommand("import", "bring a Hugging Face BERT folder in as a bertforge model folder");
  app->add_option("source", o->source, "HF folder (config.json + model.safetensors + tokenizer)")->required();
  app->add_option("out", o->out, "folder to write (new or empty: nothing in it is replaced)")->required();
  add_tokenizer(app, o->tokenizer, " (default: the source folder)");
  return {app, [o] {
            infer::ModelDir m = infer::open_model_dir(o->source, o->tokenizer, c10::kCPU);
            infer::write_hf_folder(m, o->out);
            std::printf("wrote %s\n", o->out.c_str());
            return 0;
          }};
}

}  // namespace bertforge::cli
