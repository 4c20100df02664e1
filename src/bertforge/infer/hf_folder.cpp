#include "bertforge/infer/hf_folder.h"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "bertforge/model/pretrained.h"
#include "bertforge/model/safetensors.h"
#include "bertforge/text/save_tokenizer.h"
#include "bertforge/util/error.h"

namespace fs = std::filesystem;

namespace bertforge::infer {
namespace {

// Rewrites a saved pre-training folder as BertForMaskedLM's: without the pooler and the NSP head.
void keep_masked_lm_only(const std::string& out) {
  std::string weights = (fs::path(out) / "model.safetensors").string();
  std::vector<std::pair<std::string, at::Tensor>> kept;
  {
    model::SafetensorsFile f(weights);
    for (const auto& e : f.entries())
      if (e.name.rfind("bert.pooler.", 0) != 0 && e.name.rfind("cls.seq_relationship.", 0) != 0)
        kept.emplace_back(e.name, f.tensor(e.name).clone());  // clone: the mapping closes before the rewrite
  }
  model::save_safetensors(weights, kept);
  std::string config_path = (fs::path(out) / "config.json").string();
  model::BertConfig config = model::BertConfig::load(config_path);
  config.extra["architectures"] = R"(["BertForMaskedLM"])";
  config.save(config_path);
}

}  // namespace

void write_hf_folder(ModelDir& m, const std::string& out, Head head) {
  for (const char* name : {"config.json", "model.safetensors"})
    if (fs::exists(fs::path(out) / name)) fail_at(out, 0, std::string("already holds ") + name + "; choose a new folder");
  fs::create_directories(out);
  text::save_pretrained(m.tokenizer, out);
  model::save_pretrained(*m.model, out);
  if (head == Head::masked_lm) keep_masked_lm_only(out);
}

}  // namespace bertforge::infer
