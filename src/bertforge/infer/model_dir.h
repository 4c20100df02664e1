// A model folder opened for inference: the weights (model::from_pretrained: config.json + model.safetensors)
// and the tokenizer that belongs to them, checked against each other.
//
//   ModelDir m = open_model_dir("runs/bert-mini", "", model::parse_device("cpu"));   // m.model: eval mode
//
// The tokenizer comes from `tokenizer` when given (a folder or a vocab.txt), else from the model folder
// itself (tokenizer.json or vocab.txt, as HF's AutoTokenizer finds them). Errors, one line each, naming the
// files: a folder without a vocabulary ("pass --tokenizer"), a vocabulary whose size is not the model's
// vocab_size, a tokenizer without [MASK].
#pragma once
#include <c10/core/Device.h>

#include <string>

#include "bertforge/model/bert.h"
#include "bertforge/text/tokenizer.h"

namespace bertforge::infer {

struct ModelDir {
  std::string dir, tokenizer_source;
  model::BertForPreTraining model;
  text::Tokenizer tokenizer;
  c10::Device device;
};


// Where the tokenizer of `dir` is, or Error when the folder has none.
std::string find_tokenizer(const std::string& dir, const std::string& tokenizer);

ModelDir open_model_dir(const std::string& dir, const std::string& tokenizer, c10::Device device);

}  // namespace bertforge::infer
