// Tokenizer::from_pretrained: reads vocab.txt, HF tokenizer.json and tokenizer_config.json.
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "bertforge/text/tokenizer.h"
#include "bertforge/util/error.h"
#include "bertforge/util/json_file.h"

namespace bertforge::text {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A special token in tokenizer_config.json: "[CLS]" or {"content": "[CLS]", ...}.
void read_token_name(const json& j, const char* key, std::string& name, const fs::path& path) {
  const std::string file = path.string();
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  if (it->is_object()) {
    if (auto content = json_optional<std::string>(*it, "content", file, std::string(key) + ".")) name = *content;
  } else if (auto s = json_optional<std::string>(j, key, file, "")) {
    name = *s;
  }
}

// j[key] when it is an object, {} when absent or null; anything else is an Error naming the file and key.
const json& object_at(const json& j, const char* key, const fs::path& path) {
  static const json empty = json::object();
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return empty;
  if (!it->is_object()) fail_at(path.string(), 0, std::string(key) + ": expected an object, found " + it->dump());
  return *it;
}

void read_normalizer(const json& n, NormalizerOptions& out, const fs::path& path) {
  if (n.is_null()) {  // no normalizer at all: nothing cleaned, split or folded
    out = {false, false, false, false};
    return;
  }
  const std::string file = path.string();
  if (!n.is_object()) fail_at(file, 0, "normalizer: expected an object, found " + n.dump());
  auto type = json_optional<std::string>(n, "type", file, "normalizer.");
  if (type != "BertNormalizer")
    fail_at(file, 0, "normalizer type " + type.value_or("(none)") + " is not supported (BertNormalizer is)");
  out.clean_text = json_optional<bool>(n, "clean_text", file, "normalizer.").value_or(true);
  out.handle_chinese_chars = json_optional<bool>(n, "handle_chinese_chars", file, "normalizer.").value_or(true);
  out.strip_accents = json_optional<bool>(n, "strip_accents", file, "normalizer.");
  out.lowercase = json_optional<bool>(n, "lowercase", file, "normalizer.").value_or(true);
}

Vocab read_tokenizer_json(const fs::path& path, TokenizerConfig& config) {
  const std::string file = path.string();
  json j = read_json_file(file, "tokenizer file");
  if (!j.is_object()) fail_at(file, 0, "expected a JSON object (an HF tokenizer.json)");
  const json& model = object_at(j, "model", path);
  if (model.value("type", json()) != "WordPiece")
    fail_at(file, 0, "model.type must be WordPiece, found " + model.value("type", json("(none)")).dump());
  WordPieceOptions& wp = config.wordpiece;
  wp.unk_token = json_optional<std::string>(model, "unk_token", file, "model.").value_or(wp.unk_token);
  wp.continuing_subword_prefix =
      json_optional<std::string>(model, "continuing_subword_prefix", file, "model.")
          .value_or(wp.continuing_subword_prefix);
  wp.max_input_chars_per_word =
      json_optional<int>(model, "max_input_chars_per_word", file, "model.").value_or(wp.max_input_chars_per_word);
  auto vocab = model.find("vocab");
  if (vocab == model.end() || vocab->is_null()) fail_at(file, 0, "model.vocab is missing");
  if (!vocab->is_object()) fail_unexpected_value(file, "model.vocab", *vocab);
  std::vector<std::string> tokens(vocab->size());
  for (const auto& [token, v] : vocab->items()) {
    const std::int64_t id = json_holds<std::int64_t>(v) ? v.get<std::int64_t>() : -1;
    if (id < 0 || id >= static_cast<std::int64_t>(tokens.size()) || !tokens[id].empty())
      fail_at(file, 0, "model.vocab: id " + v.dump() + " of \"" + token +
                                    "\" is out of range or given twice (ids must be 0..size-1)");
    tokens[id] = token;
  }
  read_normalizer(j.contains("normalizer") ? j["normalizer"] : json(), config.normalizer, path);
  auto pre = j.value("pre_tokenizer", json());
  if (!pre.is_object() || pre.value("type", json()) != "BertPreTokenizer")
    fail_at(file, 0, "pre_tokenizer " + pre.dump() + " is not supported (BertPreTokenizer is)");
  const json added_tokens = j.value("added_tokens", json::array());
  if (!added_tokens.is_array()) fail_at(file, 0, "added_tokens: expected a list");
  for (const json& added : added_tokens) {
    if (!added.is_object()) fail_at(file, 0, "added_tokens[]: expected objects, found " + added.dump());
    auto content = json_optional<std::string>(added, "content", file, "added_tokens[].");
    bool special = json_optional<bool>(added, "special", file, "added_tokens[].").value_or(false);
    if (content) config.added_tokens.emplace_back(*content, special);
  }
  const json& decoder = object_at(j, "decoder", path);
  config.decoder_cleanup = json_optional<bool>(decoder, "cleanup", file, "decoder.").value_or(true);
  return Vocab::from_tokens(std::move(tokens), file + ": model.vocab");
}

void read_tokenizer_config(const fs::path& path, TokenizerConfig& config) {
  const std::string file = path.string();
  json j = read_json_file(file, "tokenizer file");
  if (!j.is_object()) fail_at(file, 0, "expected a JSON object (an HF tokenizer_config.json)");
  NormalizerOptions& n = config.normalizer;
  n.lowercase = json_optional<bool>(j, "do_lower_case", file, "").value_or(n.lowercase);
  if (j.contains("strip_accents")) n.strip_accents = json_optional<bool>(j, "strip_accents", file, "");
  n.handle_chinese_chars = json_optional<bool>(j, "tokenize_chinese_chars", file, "").value_or(n.handle_chinese_chars);
  if (auto max = json_optional<double>(j, "model_max_length", file, ""))  // HF writes 1e30 for "no limit"
    config.model_max_length = static_cast<int>(std::min(*max, double(std::numeric_limits<int>::max())));
  read_token_name(j, "unk_token", config.wordpiece.unk_token, path);
  read_token_name(j, "cls_token", config.cls_token, path);
  read_token_name(j, "sep_token", config.sep_token, path);
  read_token_name(j, "pad_token", config.pad_token, path);
  read_token_name(j, "mask_token", config.mask_token, path);
}

}  // namespace

Tokenizer Tokenizer::from_pretrained(const std::string& path_or_vocab, const TokenizerOptions& options) {
  fs::path path(path_or_vocab);
  if (!fs::exists(path)) fail_at(path_or_vocab, 0, "no such vocabulary file or tokenizer folder");
  TokenizerConfig config;
  Vocab vocab;
  fs::path source = path;
  if (fs::is_directory(path)) {
    if (fs::exists(path / "tokenizer.json")) {
      source = path / "tokenizer.json";
      vocab = read_tokenizer_json(source, config);
    } else if (fs::exists(path / "vocab.txt")) {
      source = path / "vocab.txt";
      vocab = Vocab::load_txt(source.string());
    } else {
      fail_at(path_or_vocab, 0, "the folder has neither tokenizer.json nor vocab.txt");
    }
    if (fs::exists(path / "tokenizer_config.json")) read_tokenizer_config(path / "tokenizer_config.json", config);
  } else {
    vocab = Vocab::load_txt(path_or_vocab);
  }
  NormalizerOptions& n = config.normalizer;
  n.lowercase = options.lower_case.value_or(n.lowercase);
  if (options.strip_accents) n.strip_accents = options.strip_accents;
  n.handle_chinese_chars = options.tokenize_chinese_chars.value_or(n.handle_chinese_chars);
  n.clean_text = options.clean_text.value_or(n.clean_text);
  return Tokenizer(std::move(vocab), std::move(config), source.string());
}

}  // namespace bertforge::text
