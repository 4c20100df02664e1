#include "bertforge/train/trainer_state.h"

#include "bertforge/util/error.h"
#include "bertforge/util/json_file.h"

namespace bertforge::train {

namespace {
template <typename T>
nlohmann::json or_null(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}
template <typename T>
std::optional<T> optional_at(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  return j[key].get<T>();
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
  try {
    s.epoch = j.at("epoch").get<double>();
    s.global_step = j.at("global_step").get<std::int64_t>();
    s.max_steps = j.value("max_steps", std::int64_t{0});
    s.logging_steps = j.value("logging_steps", std::int64_t{500});
    s.eval_steps = j.value("eval_steps", std::int64_t{500});
    s.save_steps = j.value("save_steps", std::int64_t{500});
    s.train_batch_size = j.contains("train_batch_size") && !j["train_batch_size"].is_null()
                             ? j["train_batch_size"].get<std::int64_t>() : 0;
    s.num_train_epochs = j.value("num_train_epochs", 0.0);
    s.num_input_tokens_seen = j.value("num_input_tokens_seen", std::int64_t{0});
    s.total_flos = j.value("total_flos", 0.0);
    s.log_history = j.value("log_history", nlohmann::json::array());
    s.best_metric = optional_at<double>(j, "best_metric");
    s.best_global_step = optional_at<std::int64_t>(j, "best_global_step");
    s.best_model_checkpoint = optional_at<std::string>(j, "best_model_checkpoint");
  } catch (const nlohmann::json::exception& e) {
    fail_at(where, 0, std::string("not a trainer state: ") + e.what());
  }
  return s;
}

void TrainerState::save(const std::string& path) const { write_json_file(path, to_json()); }

TrainerState TrainerState::load(const std::string& path) {
  return from_json(read_json_file(path, "trainer state"), path);
}

}  // namespace bertforge::train
