// load_recipe (pretrain.h): a multi-phase recipe file. Apart from pretrain.cpp so that it needs no LibTorch
// and the fuzz target of recipe files links it alone.
#include "bertforge/train/pretrain.h"
#include "bertforge/util/error.h"
#include "bertforge/util/json_file.h"

namespace bertforge::train {

void load_recipe(const std::string& path, PretrainSpec& spec) {
  nlohmann::json j = read_json_file(path, "recipe");
  if (!j.is_object() || !j.contains("phases") || !j["phases"].is_array())
    fail_at(path, 0, "a recipe is a JSON object with a \"phases\" array");
  if (j.contains("model")) {
    if (!j["model"].is_string())
      fail_at(path, 0, "model: expected a preset name or a path, found " + j["model"].dump());
    spec.model = j["model"].get<std::string>();
  }
  std::size_t index = 0;
  for (auto phase : j["phases"]) {
    const std::string where = path + ": phases[" + std::to_string(index++) + "]";
    if (!phase.is_object()) fail_at(where, 0, "expected an object of training arguments, found " + phase.dump());
    PhaseSpec p;
    for (auto [key, folder] : {std::pair{"train_data", &p.train_data}, std::pair{"eval_data", &p.eval_data}}) {
      auto it = phase.find(key);
      if (it == phase.end()) {
        *folder = key == std::string("train_data") ? spec.train_data : spec.eval_data;
        continue;
      }
      if (!it->is_string()) fail_at(where, 0, std::string(key) + ": expected a folder, found " + it->dump());
      *folder = it->get<std::string>();
      phase.erase(it);
    }
    TrainingArguments check = spec.args;
    check.update(phase, where);  // unknown keys and wrong types fail here, naming the recipe
    p.overrides = phase;
    spec.phases.push_back(p);
  }
  if (spec.phases.empty()) fail_at(path, 0, "the recipe lists no phase");
}

}  // namespace bertforge::train
