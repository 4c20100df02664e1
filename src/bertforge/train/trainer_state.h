// TrainerState: what HF's TrainerState holds, written as trainer_state.json the way HF writes it
// (json.dumps(asdict(state), indent=2, sort_keys=True)) with exactly HF's keys, so
// transformers.TrainerState.load_from_json reads it (HF rejects unknown keys). bertforge's own resume data
// (RNG, data position) lives in other files of the checkpoint, not here.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace bertforge::train {

struct TrainerState {
  double epoch = 0;                 // fractional epochs done
  std::int64_t global_step = 0;     // optimizer steps done
  std::int64_t max_steps = 0;
  std::int64_t logging_steps = 500, eval_steps = 500, save_steps = 500;
  std::int64_t train_batch_size = 0;
  double num_train_epochs = 0;
  std::int64_t num_input_tokens_seen = 0;
  double total_flos = 0;
  nlohmann::json log_history = nlohmann::json::array();  // dicts with "step", as HF logs them
  std::optional<double> best_metric;
  std::optional<std::int64_t> best_global_step;
  std::optional<std::string> best_model_checkpoint;

  nlohmann::json to_json() const;
  static TrainerState from_json(const nlohmann::json& j, const std::string& where);
  void save(const std::string& path) const;               // atomic
  static TrainerState load(const std::string& path);      // throws Error naming the file
};

}  // namespace bertforge::train
