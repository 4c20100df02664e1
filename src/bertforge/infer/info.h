// `bertforge info DIR`: what a model folder (a run, a checkpoint-N, an exported or HF folder) holds, as JSON:
//   config      config.json as read (HF keys)
//   parameters  distinct trainable parameters (the tied decoder counted once, as HF's num_parameters())
//   tokenizer   vocab_size and do_lower_case of the folder's tokenizer (absent when it has none)
//   step, epoch, metrics   from trainer_state.json when present: global_step, epoch, the last logged
//               training loss and the last evaluation (every eval_* key), best_metric
// Errors name the file: no config.json, an unreadable model.safetensors or trainer_state.json.
#pragma once
#include <nlohmann/json.hpp>

#include <string>

namespace bertforge::infer {

nlohmann::json model_info(const std::string& dir);

}  // namespace bertforge::infer
