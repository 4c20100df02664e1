// `export` and `import`: a model folder (a bertforge run, a checkpoint-N, or any HF BERT folder) written
// again as a clean Hugging Face folder:
//   config.json, model.safetensors   model::save_pretrained (BertForPreTraining keys, tied weights once, fp32)
//   vocab.txt, tokenizer.json, tokenizer_config.json, special_tokens_map.json
//                                    text::save_pretrained (the source's tokenizer, settings as resolved)
// HF's AutoTokenizer, AutoModelForMaskedLM, BertForPreTraining and pipeline("fill-mask") load the result
// offline. Reading goes through open_model_dir, so HF's variants (bare BertModel keys, legacy LayerNorm
// names, an untied decoder, fp16/bf16 weights) are normalised and the vocabulary is checked against the
// model. Export and import are the same operation seen from either side; they share this one function.
// `out` must be a new or an empty folder: nothing already there is replaced (a folder holding anything is an
// Error naming a file in it). The files are written into a temporary folder beside `out` and renamed into
// place, so a failed export leaves no half-written folder.
//
// Heads: transformers 5 logs a LOAD REPORT whenever a checkpoint has weights the class lacks or lacks
// weights the class has, so no single folder loads silently into both BertForPreTraining (which needs the
// pooler and NSP head) and BertForMaskedLM / pipeline("fill-mask") (which have no place for them).
// Head::pretraining (default) keeps everything: BertForPreTraining and AutoTokenizer load silently,
// AutoModelForMaskedLM reports exactly the pooler and NSP weights as unused, as for google-bert/bert-base-*.
// Head::masked_lm drops those four tensors and names BertForMaskedLM in config.json: AutoModelForMaskedLM and
// pipeline("fill-mask") load silently.
#pragma once
#include <string>

#include "bertforge/infer/model_dir.h"

namespace bertforge::infer {

enum class Head { pretraining, masked_lm };

void write_hf_folder(ModelDir& m, const std::string& out, Head head = Head::pretraining);

}  // namespace bertforge::infer
