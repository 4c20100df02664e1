// `export` and `import`: a model folder (a bertforge run, a checkpoint-N, or any HF BERT folder) written
// again as a clean Hugging Face folder:
//   config.json, model.safetensors   model::save_pretrained (BertForPreTraining keys, tied weights once, fp32)
//   vocab.txt, tokenizer.json, tokenizer_config.json   text::save_tokenizer (lower-casing as the source's)
//   special_tokens_map.json          unk/sep/pad/cls/mask tokens
// HF's AutoTokenizer, AutoModelForMaskedLM, BertForPreTraining and pipeline("fill-mask") load the result
// offline. Reading goes through open_model_dir, so HF's variants (bare BertModel keys, legacy LayerNorm
// names, an untied decoder, fp16/bf16 weights) are normalised and the vocabulary is checked against the
// model. Export and import are the same operation seen from either side; they share this one function.
// `out` must not already hold a model (config.json or model.safetensors): nothing there is overwritten.
#pragma once
#include <string>

#include "bertforge/infer/model_dir.h"

namespace bertforge::infer {

void write_hf_folder(ModelDir& m, const std::string& out);

}  // namespace bertforge::infer
