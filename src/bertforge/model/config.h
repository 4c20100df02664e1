// BertConfig: the hyper-parameters of a BERT model, read from and written to Hugging Face's config.json with
// HF's key names and defaults (transformers BertConfig). Keys bertforge does not use (architectures,
// model_type, transformers_version, ...) are kept verbatim and written back, so a round trip loses nothing.
//
//   BertConfig c = BertConfig::preset("mini");          // Google's BERT sizes: tiny mini small medium base large
//   BertConfig d = BertConfig::load("dir/config.json"); // throws Error naming the file and field at fault
//   d.save("out/config.json");                          // atomic write, keys sorted, indent 2 (as HF writes)
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace bertforge::model {

struct BertConfig {
  std::int64_t vocab_size = 30522;
  std::int64_t hidden_size = 768;
  std::int64_t num_hidden_layers = 12;
  std::int64_t num_attention_heads = 12;
  std::int64_t intermediate_size = 3072;
  std::string hidden_act = "gelu";  // one of known_activations()
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  std::int64_t max_position_embeddings = 512;
  std::int64_t type_vocab_size = 2;
  double initializer_range = 0.02;
  double layer_norm_eps = 1e-12;
  std::int64_t pad_token_id = 0;
  // Keys not listed above: name -> the value's JSON text, written back unchanged.
  std::map<std::string, std::string> extra;

  // Google's BERT sizes (google-research/bert README): L layers, H hidden, H/64 heads, 4H intermediate.
  // Throws Error for an unknown name.
  static BertConfig preset(const std::string& name);
  static std::vector<std::string> preset_names();
  // A preset name, or else a path to a config.json.
  static BertConfig preset_or_file(const std::string& name_or_path);

  static BertConfig parse(const std::string& json_text, const std::string& source);
  static BertConfig load(const std::string& path);
  std::string to_json() const;
  void save(const std::string& path) const;

  // Throws Error "<source>: <field>: why" when a value cannot describe a BERT model bertforge can build.
  void validate(const std::string& source) const;
};

// The activation functions bertforge implements.
enum class ActivationKind { gelu_erf, gelu_tanh, quick_gelu, relu, silu, tanh };
// The hidden_act values bertforge implements (HF's ACT2FN names), each with the function it names: the one
// table config validation and the layers read. HF spells some functions several ways.
const std::vector<std::pair<std::string, ActivationKind>>& known_activations();

}  // namespace bertforge::model
