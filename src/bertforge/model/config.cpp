#include "bertforge/model/config.h"

#include <algorithm>
#include <nlohmann/json.hpp>  // json: config.json parsing and writing

#include "bertforge/util/atomic_file.h"
#include "bertforge/util/error.h"
#include "bertforge/util/json_file.h"

namespace bertforge::model {
namespace {

using nlohmann::json;

struct Preset {
  const char* name;
  std::int64_t layers, hidden;
};
constexpr Preset kPresets[] = {{"tiny", 2, 128},  {"mini", 4, 256}, {"small", 4, 512},
                               {"medium", 8, 512}, {"base", 12, 768}, {"large", 24, 1024}};

[[noreturn]] void bad(const std::string& source, const std::string& field, const std::string& why) {
  throw Error(source + ": " + field + ": " + why);
}

template <typename T>
void take(json& j, const char* key, T& out, const std::string& source) {
  auto it = j.find(key);
  if (it == j.end()) return;
  bool ok = std::is_same_v<T, std::string> ? it->is_string()
            : std::is_integral_v<T>        ? it->is_number_integer()
                                           : it->is_number();
  if (!ok) bad(source, key, "unexpected JSON type " + std::string(it->type_name()));
  out = it->get<T>();
  j.erase(it);
}

// A config.json's object, its keys checked and taken.
BertConfig from_json(json j, const std::string& source) {
  BertConfig c;
  take(j, "vocab_size", c.vocab_size, source);
  take(j, "hidden_size", c.hidden_size, source);
  take(j, "num_hidden_layers", c.num_hidden_layers, source);
  take(j, "num_attention_heads", c.num_attention_heads, source);
  take(j, "intermediate_size", c.intermediate_size, source);
  take(j, "hidden_act", c.hidden_act, source);
  take(j, "hidden_dropout_prob", c.hidden_dropout_prob, source);
  take(j, "attention_probs_dropout_prob", c.attention_probs_dropout_prob, source);
  take(j, "max_position_embeddings", c.max_position_embeddings, source);
  take(j, "type_vocab_size", c.type_vocab_size, source);
  take(j, "initializer_range", c.initializer_range, source);
  take(j, "layer_norm_eps", c.layer_norm_eps, source);
  if (j.contains("pad_token_id") && j["pad_token_id"].is_null()) {
    c.pad_token_id = -1;  // HF: no padding row
    j.erase("pad_token_id");
  }
  take(j, "pad_token_id", c.pad_token_id, source);
  for (auto& [key, value] : j.items()) c.extra[key] = value.dump();
  c.validate(source);
  return c;
}

}  // namespace

const std::vector<std::pair<std::string, ActivationKind>>& known_activations() {
  using K = ActivationKind;
  // gelu_new, gelu_fast and gelu_pytorch_tanh are all the tanh approximation, written differently in HF.
  static const std::vector<std::pair<std::string, ActivationKind>> table{
      {"gelu", K::gelu_erf},       {"gelu_python", K::gelu_erf},       {"gelu_new", K::gelu_tanh},
      {"gelu_fast", K::gelu_tanh}, {"gelu_pytorch_tanh", K::gelu_tanh}, {"quick_gelu", K::quick_gelu},
      {"relu", K::relu},           {"silu", K::silu},                   {"swish", K::silu},
      {"tanh", K::tanh}};
  return table;
}

BertConfig BertConfig::preset(const std::string& name) {
  for (const auto& p : kPresets) {
    if (name != p.name) continue;
    BertConfig c;
    c.num_hidden_layers = p.layers;
    c.hidden_size = p.hidden;
    c.num_attention_heads = p.hidden / 64;
    c.intermediate_size = 4 * p.hidden;
    c.extra["architectures"] = R"(["BertForPreTraining"])";
    c.extra["model_type"] = R"("bert")";
    return c;
  }
  std::string known;
  for (const auto& n : preset_names()) known += (known.empty() ? "" : ", ") + n;
  throw Error("unknown model preset '" + name + "' (known: " + known + ")");
}

std::vector<std::string> BertConfig::preset_names() {
  std::vector<std::string> names;
  for (const auto& p : kPresets) names.push_back(p.name);
  return names;
}

BertConfig BertConfig::preset_or_file(const std::string& name_or_path) {
  for (const auto& p : kPresets)
    if (name_or_path == p.name) return preset(name_or_path);
  return load(name_or_path);
}

BertConfig BertConfig::parse(const std::string& json_text, const std::string& source) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number such as 1e999
    throw Error(source + ": invalid JSON: " + e.what());
  }
  if (!j.is_object()) throw Error(source + ": expected a JSON object");
  return from_json(std::move(j), source);
}

BertConfig BertConfig::load(const std::string& path) { return from_json(read_json_file(path, "model config"), path); }

void BertConfig::validate(const std::string& source) const {
  // Other architectures' configs parse too (their keys kept as extras, BERT's defaults filled in): refuse
  // them before a model of random weights is built from one.
  auto type = extra.find("model_type");
  if (type != extra.end() && type->second != "\"bert\"") {
    json t = json::parse(type->second);
    bad(source, "model_type", "'" + (t.is_string() ? t.get<std::string>() : type->second) +
                                  "' is not BERT (bertforge builds BERT models only: model_type \"bert\")");
  }
  const auto& acts = known_activations();
  if (std::none_of(acts.begin(), acts.end(), [&](const auto& a) { return a.first == hidden_act; })) {
    std::string known;
    for (const auto& a : acts) known += (known.empty() ? "" : ", ") + a.first;
    bad(source, "hidden_act", "unknown activation '" + hidden_act + "' (known: " + known + ")");
  }
  auto positive = [&](const char* field, std::int64_t v) {
    if (v <= 0) bad(source, field, "must be positive, got " + std::to_string(v));
  };
  positive("vocab_size", vocab_size);
  positive("hidden_size", hidden_size);
  positive("num_hidden_layers", num_hidden_layers);
  positive("num_attention_heads", num_attention_heads);
  positive("intermediate_size", intermediate_size);
  positive("max_position_embeddings", max_position_embeddings);
  positive("type_vocab_size", type_vocab_size);
  if (hidden_size % num_attention_heads != 0)
    bad(source, "num_attention_heads", "does not divide hidden_size " + std::to_string(hidden_size));
  if (pad_token_id >= vocab_size) bad(source, "pad_token_id", "not below vocab_size");
  for (auto [field, p] : {std::pair{"hidden_dropout_prob", hidden_dropout_prob},
                          std::pair{"attention_probs_dropout_prob", attention_probs_dropout_prob}})
    if (!(p >= 0 && p < 1)) bad(source, field, "must be in [0, 1)");
  auto pos = extra.find("position_embedding_type");
  if (pos != extra.end() && pos->second != "\"absolute\"")
    bad(source, "position_embedding_type", pos->second + " is not supported (only \"absolute\")");
}

std::string BertConfig::to_json() const {
  json j;
  for (const auto& [key, text] : extra) j[key] = json::parse(text);
  j["vocab_size"] = vocab_size;
  j["hidden_size"] = hidden_size;
  j["num_hidden_layers"] = num_hidden_layers;
  j["num_attention_heads"] = num_attention_heads;
  j["intermediate_size"] = intermediate_size;
  j["hidden_act"] = hidden_act;
  j["hidden_dropout_prob"] = hidden_dropout_prob;
  j["attention_probs_dropout_prob"] = attention_probs_dropout_prob;
  j["max_position_embeddings"] = max_position_embeddings;
  j["type_vocab_size"] = type_vocab_size;
  j["initializer_range"] = initializer_range;
  j["layer_norm_eps"] = layer_norm_eps;
  j["pad_token_id"] = pad_token_id < 0 ? json(nullptr) : json(pad_token_id);
  return j.dump(2) + "\n";
}

void BertConfig::save(const std::string& path) const {
  AtomicFile out(path);
  out.stream() << to_json();
  out.commit();
}

}  // namespace bertforge::model
