#include "bertforge/model/pretrained.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>  // json: the shard index
#include <set>
#include <sstream>

#include "bertforge/model/safetensors.h"
#include "bertforge/util/error.h"
#include "bertforge/util/json_file.h"
#include "bertforge/util/messages.h"

namespace bertforge::model {
namespace fs = std::filesystem;
namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The model's name for a file key, or "" when the key is a known leftover to skip silently.
std::string model_key(std::string key, const std::set<std::string>& file_keys,
                      const torch::OrderedDict<std::string, at::Tensor>& params) {
  if (key.find("LayerNorm.") != std::string::npos) {
    if (ends_with(key, ".gamma")) key = key.substr(0, key.size() - 6) + ".weight";
    if (ends_with(key, ".beta")) key = key.substr(0, key.size() - 5) + ".bias";
  }
  if (!params.contains(key) && params.contains("bert." + key)) key = "bert." + key;
  if (key == "cls.predictions.decoder.weight") return "";  // tied to the word embeddings
  if (key == "cls.predictions.decoder.bias")               // an older, untied save: the same values
    return file_keys.count("cls.predictions.bias") ? "" : "cls.predictions.bias";
  if (ends_with(key, "embeddings.position_ids")) return "";  // a buffer some old files carry
  return key;
}

std::string shape_text(at::IntArrayRef shape) {
  std::ostringstream s;
  s << shape;
  return s.str();
}

std::vector<std::string> weight_files(const std::string& dir) {
  fs::path single = fs::path(dir) / "model.safetensors", index = fs::path(dir) / "model.safetensors.index.json";
  if (fs::exists(single)) return {single.string()};
  if (fs::exists(index)) {
    std::set<std::string> files;
    nlohmann::json j = read_json_file(index.string(), "safetensors index");
    try {
      for (const auto& [key, file] : j.at("weight_map").items())
        files.insert((fs::path(dir) / file.get<std::string>()).string());
    } catch (const nlohmann::json::exception& e) {
      throw Error(index.string() + ": weight_map: " + e.what());
    }
    return {files.begin(), files.end()};
  }
  if (fs::exists(fs::path(dir) / "pytorch_model.bin"))
    throw Error(dir + ": only pytorch_model.bin found; bertforge reads safetensors only (loading a pickle runs "
                      "code). Convert once with: python -c \"from transformers import BertForPreTraining as M; "
                      "M.from_pretrained('" + dir + "').save_pretrained('" + dir + "')\"");
  throw Error(dir + ": no model.safetensors");
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// At most three names, then how many more: keeps a message one readable line.
std::string first_few(const std::vector<std::string>& names) {
  std::vector<std::string> shown(names.begin(), names.begin() + std::min<std::size_t>(3, names.size()));
  return joined(shown) + (names.size() > 3 ? " and " + std::to_string(names.size() - 3) + " more" : "");
}

// The heads a BERT checkpoint may lack, as HF loads them: a BertModel save has no cls.*, a BertForMaskedLM
// save no pooler and no NSP head, a pre-training save no classifier. HF initialises them with a warning; so
// do we.
bool is_head(const std::string& key) {
  return key.rfind("cls.", 0) == 0 || key.rfind("bert.pooler.", 0) == 0 || key.rfind("classifier.", 0) == 0;
}

}  // namespace

void load_safetensors_weights(torch::nn::Module& model, const std::string& path, LoadReport& report) {
  SafetensorsFile file(path);
  auto params = model.named_parameters();
  std::set<std::string> file_keys;
  for (const auto& e : file.entries()) file_keys.insert(e.name);
  torch::NoGradGuard no_grad;
  for (const auto& e : file.entries()) {
    std::string key = model_key(e.name, file_keys, params);
    if (key.empty()) continue;
    at::Tensor* param = params.find(key);
    if (!param) {
      report.unexpected.push_back(e.name);
      continue;
    }
    const std::string where = path + ": tensor '" + e.name + "'";
    if (e.dtype != "F32" && e.dtype != "F16" && e.dtype != "BF16" && e.dtype != "F64")
      throw Error(where + ": dtype " + e.dtype + " where a floating-point weight is expected");
    if (at::IntArrayRef(e.shape) != param->sizes())
      throw Error(where + ": shape " + shape_text(e.shape) + " does not match the model's " +
                  shape_text(param->sizes()) + " (check config.json)");
    param->copy_(file.tensor(e.name));
    auto it = std::find(report.missing.begin(), report.missing.end(), key);
    if (it != report.missing.end()) report.missing.erase(it);
  }
}

LoadReport load_pretrained(torch::nn::Module& model, const std::string& dir) {
  LoadReport report;
  for (const auto& item : model.named_parameters()) report.missing.push_back(item.key());
  const std::vector<std::string> files = weight_files(dir);
  for (const auto& file : files) load_safetensors_weights(model, file, report);
  std::vector<std::string> body;  // missing weights no BERT checkpoint may lack
  for (const auto& key : report.missing)
    if (!is_head(key)) body.push_back(key);
  if (!body.empty())
    fail_at(files.front(), 0, "lacks " + std::to_string(body.size()) + " of the model's " +
                                  std::to_string(model.named_parameters().size()) + " weights (" + first_few(body) +
                                  "): not a BERT checkpoint of this config.json");
  std::vector<std::string> non_finite;
  for (const auto& item : model.named_parameters())
    if (!at::isfinite(item.value()).all().item<bool>()) non_finite.push_back(item.key());
  if (!non_finite.empty())
    warn(dir + ": " + std::to_string(non_finite.size()) + " weight tensors hold NaN or Inf (" + first_few(non_finite) +
         "): every prediction will be NaN (was training diverging? load an earlier checkpoint)");
  return report;
}

Pretrained from_pretrained(const std::string& dir, c10::Device device) {
  Pretrained p;
  p.model = BertForPreTraining(BertConfig::load((fs::path(dir) / "config.json").string()));
  p.report = load_pretrained(*p.model, dir);
  if (!p.report.missing.empty())
    warn(dir + ": not in the checkpoint, newly initialised: " + joined(p.report.missing));
  if (!p.report.unexpected.empty())
    warn(dir + ": checkpoint tensors the model does not use, ignored: " + joined(p.report.unexpected));
  p.model->to(device);
  return p;
}

void save_pretrained(torch::nn::Module& model, BertConfig config, const std::string& architecture,
                     const std::string& dir) {
  fs::create_directories(dir);
  config.extra["architectures"] = nlohmann::json::array({architecture}).dump();
  config.extra["model_type"] = R"("bert")";
  config.save((fs::path(dir) / "config.json").string());
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& item : model.named_parameters()) tensors.emplace_back(item.key(), item.value());
  save_safetensors((fs::path(dir) / "model.safetensors").string(), tensors);
}

void save_pretrained(BertForPreTrainingImpl& model, const std::string& dir) {
  save_pretrained(model, model.config, "BertForPreTraining", dir);
}

}  // namespace bertforge::model
