// Hugging Face model folders: config.json + model.safetensors (or a sharded model.safetensors.index.json).
//
//   auto p = from_pretrained("runs/bert-mini", torch::kCUDA);  // p.model in train mode; call ->eval() to infer
//   save_pretrained(*p.model, "out/");   // HF BertForPreTraining.from_pretrained("out/") loads it, no warnings
//
// Reading accepts what HF writes for BERT: BertForPreTraining keys (bert.*, cls.*), bare BertModel keys
// (embeddings.*, encoder.*, pooler.*), legacy LayerNorm gamma/beta names, an untied cls.predictions.decoder.*
// (the decoder is tied to the word embeddings, so those copies are skipped) and float weights of any width
// (F16/BF16/F64 are converted to the model's fp32). Heads the folder lacks (cls.* of a BertModel checkpoint,
// the pooler of a BertForMaskedLM one) keep HF's initialisation and are listed in one warning on stderr, as
// HF warns; any other missing weight is an Error (the folder is not a BERT checkpoint of its config). Keys
// the model does not have are listed in a warning, and so are weights holding NaN or Inf. A key of the wrong shape or a non-float dtype is an Error naming file and key.
// pytorch_model.bin is refused with an Error that says how to convert it: reading pickles executes code.
// Writing: config.json and model.safetensors as HF's save_pretrained makes them: tied tensors once (under
// bert.embeddings.word_embeddings.weight and cls.predictions.bias), __metadata__ {"format": "pt"}.
#pragma once
#include <c10/core/Device.h>

#include <string>
#include <vector>

#include "bertforge/model/bert.h"

namespace bertforge::model {

struct LoadReport {
  std::vector<std::string> missing;     // model parameters the files did not provide (initialised)
  std::vector<std::string> unexpected;  // file tensors the model has no place for (ignored)
};

struct Pretrained {
  BertForPreTraining model{nullptr};
  LoadReport report;
};

Pretrained from_pretrained(const std::string& dir, c10::Device device = c10::kCPU);

// Loads a folder's weights into `model` (bert.h's or classifier.h's, on the CPU or its device) and says what
// the folder lacked and held beyond the model; a missing weight other than a head's (cls.*, bert.pooler.*,
// classifier.*) is an Error, NaN or Inf weights a warning. from_pretrained is this plus its two warnings.
LoadReport load_pretrained(torch::nn::Module& model, const std::string& dir);

// Loads the tensors of one safetensors file into `model` (CPU or device): appends file tensors the model has
// no place for to report.unexpected and removes each loaded key from report.missing (seed report.missing with
// the model's parameter names first to learn what the file lacks, as load_pretrained does).
void load_safetensors_weights(torch::nn::Module& model, const std::string& path, LoadReport& report);

// config.json (with `architecture` as architectures and model_type bert) and model.safetensors.
void save_pretrained(torch::nn::Module& model, BertConfig config, const std::string& architecture,
                     const std::string& dir);
void save_pretrained(BertForPreTrainingImpl& model, const std::string& dir);

}  // namespace bertforge::model
