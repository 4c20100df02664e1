#include "bertforge/train/trainer_state.h"

#include "bertforge/util/error.h"
#include "bertforge/util/json_file.h"

namespace bertforge::train {

namespace {
template <typename T>
nlohmann::json or_null(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}
}  // namespace

nlohmann::json TrainerState::to_json() const {
  // nlohmann's object keeps keys sorted, which is HF's sort_keys=True.
  return {{"best_global_step", or_null(best_global_step)},
          {"best_metric", or_null(best_metric)},
          {"best_model_checkpoint", or_null(best_model_checkpoint)},
          {"epoch", epoch},
          {"eval_steps", eval_steps},
          {"global_step", global_step},
          {"is_hyper_param_search", false},
          {"is_local_process_zero", true},
          {"is_world_process_zero", true},
          {"log_history", log_history},
          {"logging_steps", logging_steps},
          {"max_steps", max_steps},
          {"num_input_tokens_seen", num_input_tokens_seen},
          {"num_train_epochs", num_train_epochs},
          {"save_steps", save_steps},
          {"stateful_callbacks", nlohmann::json::object()},
          {"total_flos", total_flos},
          {"train_batch_size", train_batch_size},
          {"trial_name", nullptr},
          {"trial_params", nullptr}};
}

TrainerState TrainerState::from_json(const nlohmann::json& j, const std::string& where) {
  TrainerState s;
  auto count = [&](const char* key, std::int64_t fallback) {
    return json_optional<std::int64_t>(j, key, where).value_or(fallback);
  };
  s.epoch = json_field<double>(j, "epoch", where);
  s.global_step = json_field<std::int64_t>(j, "global_step", where);
  s.max_steps = count("max_steps", 0);
  s.logging_steps = count("logging_steps", 500);
  s.eval_steps = count("eval_steps", 500);
  s.save_steps = count("save_steps", 500);
  s.train_batch_size = count("train_batch_size", 0);
  s.num_train_epochs = json_optional<double>(j, "num_train_epochs", where).value_or(0.0);
  s.num_input_tokens_seen = count("num_input_tokens_seen", 0);
  s.total_flos = json_optional<double>(j, "total_flos", where).value_or(0.0);
  s.log_history = j.value("log_history", nlohmann::json::array());
  s.best_metric = json_optional<double>(j, "best_metric", where);
  s.best_global_step = json_optional<std::int64_t>(j, "best_global_step", where);
  s.best_model_checkpoint = json_optional<std::string>(j, "best_model_checkpoint", where);
  return s;
}

void TrainerState::save(const std::string& path) const { write_json_file(path, to_json()); }

TrainerState TrainerState::load(const std::string& path) {
  return from_json(read_json_file(path, "trainer state"), path);
}

}  // namespace bertforge::train
