#include "bertforge/infer/info.h"

#include <filesystem>

#include "bertforge/model/pretrained.h"
#include "bertforge/text/tokenizer.h"
#include "bertforge/train/checkpoint_files.h"
#include "bertforge/train/trainer_state.h"

namespace fs = std::filesystem;

namespace bertforge::infer {
namespace {

// The last training loss and the last evaluation of HF's log_history.
nlohmann::json last_metrics(const train::TrainerState& s) {
  nlohmann::json metrics = nlohmann::json::object();
  for (const auto& entry : s.log_history) {
    if (entry.contains("loss")) metrics["loss"] = entry["loss"];
    if (entry.contains("eval_loss"))
      for (const auto& [key, value] : entry.items())
        if (key.rfind("eval_", 0) == 0) metrics[key] = value;
  }
  if (s.best_metric) metrics["best_metric"] = *s.best_metric;
  return metrics;
}

}  // namespace

nlohmann::json model_info(const std::string& dir) {
  model::BertForPreTraining m = model::from_pretrained(dir).model;
  std::int64_t parameters = 0;
  for (const auto& p : m->parameters()) parameters += p.numel();
  nlohmann::json info = {{"model", dir},
                         {"config", nlohmann::json::parse(m->config.to_json())},
                         {"parameters", parameters}};
  if (fs::exists(fs::path(dir) / "tokenizer.json") || fs::exists(fs::path(dir) / "vocab.txt")) {
    text::Tokenizer tok = text::Tokenizer::from_pretrained(dir);
    info["tokenizer"] = {{"vocab_size", tok.vocab_size()}, {"do_lower_case", tok.config().normalizer.lowercase}};
  }
  fs::path state = fs::path(dir) / train::checkpoint_files::kTrainerState;
  if (fs::exists(state)) {
    train::TrainerState s = train::TrainerState::load(state.string());
    info["step"] = s.global_step;
    info["epoch"] = s.epoch;
    info["metrics"] = last_metrics(s);
  }
  return info;
}

}  // namespace bertforge::infer
