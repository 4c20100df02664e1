#include "bertforge/text/save_tokenizer.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "bertforge/util/atomic_file.h"
#include "bertforge/util/error.h"

namespace bertforge::text {

namespace {

using Json = nlohmann::ordered_json;  // HF's key order, so files diff cleanly against HF's own
using Ids = std::unordered_map<std::string, int>;
using Added = std::vector<std::pair<std::string, bool>>;  // (content, special), in id order

Json special_piece(const std::string& token, int type_id) {
  return {{"SpecialToken", {{"id", token}, {"type_id", type_id}}}};
}

Json sequence_piece(const std::string& id, int type_id) {
  return {{"Sequence", {{"id", id}, {"type_id", type_id}}}};
}

Json post_processor(const Ids& ids, const TokenizerConfig& c) {
  Json specials = Json::object();
  for (const std::string& t : {c.cls_token, c.sep_token}) specials[t] = {{"id", t}, {"ids", {ids.at(t)}}, {"tokens", {t}}};
  return {{"type", "TemplateProcessing"},
          {"single", {special_piece(c.cls_token, 0), sequence_piece("A", 0), special_piece(c.sep_token, 0)}},
          {"pair",
           {special_piece(c.cls_token, 0), sequence_piece("A", 0), special_piece(c.sep_token, 0),
            sequence_piece("B", 1), special_piece(c.sep_token, 1)}},
          {"special_tokens", specials}};
}

Json optional_bool(const std::optional<bool>& b) { return b ? Json(*b) : Json(nullptr); }

Json tokenizer_json(const std::vector<std::string>& vocab, const Ids& ids, const TokenizerConfig& c,
                    const Added& added) {
  Json added_json = Json::array();
  for (const auto& [t, special] : added)
    added_json.push_back({{"id", ids.at(t)}, {"content", t}, {"single_word", false}, {"lstrip", false},
                          {"rstrip", false}, {"normalized", false}, {"special", special}});
  Json model_vocab = Json::object();
  for (std::size_t i = 0; i < vocab.size(); ++i) model_vocab[vocab[i]] = i;
  const NormalizerOptions& n = c.normalizer;
  return {{"version", "1.0"},
          {"truncation", nullptr},
          {"padding", nullptr},
          {"added_tokens", added_json},
          {"normalizer",
           {{"type", "BertNormalizer"}, {"clean_text", n.clean_text}, {"handle_chinese_chars", n.handle_chinese_chars},
            {"strip_accents", optional_bool(n.strip_accents)}, {"lowercase", n.lowercase}}},
          {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
          {"post_processor", post_processor(ids, c)},
          {"decoder", {{"type", "WordPiece"}, {"prefix", c.wordpiece.continuing_subword_prefix}, {"cleanup", c.decoder_cleanup}}},
          {"model",
           {{"type", "WordPiece"}, {"unk_token", c.wordpiece.unk_token},
            {"continuing_subword_prefix", c.wordpiece.continuing_subword_prefix},
            {"max_input_chars_per_word", c.wordpiece.max_input_chars_per_word}, {"vocab", model_vocab}}}};
}

// The special tokens by role, those the vocabulary holds: tokenizer_config.json and special_tokens_map.json.
Json special_tokens_map(const Ids& ids, const TokenizerConfig& c) {
  Json map = Json::object();
  for (const auto& [key, token] : {std::pair{"cls_token", &c.cls_token}, {"mask_token", &c.mask_token},
                                   {"pad_token", &c.pad_token}, {"sep_token", &c.sep_token},
                                   {"unk_token", &c.wordpiece.unk_token}})
    if (ids.count(*token)) map[key] = *token;
  return map;
}

Json tokenizer_config(const Ids& ids, const TokenizerConfig& c) {
  Json config = {{"do_lower_case", c.normalizer.lowercase}, {"strip_accents", optional_bool(c.normalizer.strip_accents)},
                 {"tokenize_chinese_chars", c.normalizer.handle_chinese_chars}, {"tokenizer_class", "BertTokenizer"},
                 {"model_max_length", c.model_max_length}};
  config.update(special_tokens_map(ids, c));
  return config;
}

void write(const std::filesystem::path& path, const std::string& text) {
  AtomicFile out(path.string());
  out.stream() << text;
  out.commit();
}

// Checks everything before the first file is written, so a refusal leaves nothing behind.
void write_folder(const std::string& dir, const std::vector<std::string>& vocab, const TokenizerConfig& c,
                  const Added& added) {
  std::filesystem::path out(dir);
  Ids ids;
  for (std::size_t i = 0; i < vocab.size(); ++i)
    if (!ids.emplace(vocab[i], static_cast<int>(i)).second)
      fail_at((out / "vocab.txt").string(), i + 1, "duplicate token '" + vocab[i] + "'");
  for (const auto& [t, special] : added)
    if (!ids.count(t)) throw Error("special token '" + t + "' is not in the vocabulary");
  for (const std::string* t : {&c.wordpiece.unk_token, &c.cls_token, &c.sep_token})
    if (!ids.count(*t)) throw Error("the vocabulary has no " + *t + " token");
  std::string vocab_txt;
  for (const auto& t : vocab) vocab_txt += t + "\n";
  std::filesystem::create_directories(out);
  write(out / "vocab.txt", vocab_txt);
  write(out / "tokenizer.json", tokenizer_json(vocab, ids, c, added).dump(2) + "\n");
  write(out / "tokenizer_config.json", tokenizer_config(ids, c).dump(2) + "\n");
  write(out / "special_tokens_map.json", special_tokens_map(ids, c).dump(2) + "\n");
}

}  // namespace

void check_special_tokens(const std::vector<std::string>& special_tokens) {
  for (const char* required : {"[UNK]", "[CLS]", "[SEP]"})
    if (std::find(special_tokens.begin(), special_tokens.end(), required) == special_tokens.end())
      throw Error(std::string("the special tokens must include ") + required);
}

void save_tokenizer(const std::string& dir, const std::vector<std::string>& vocab,
                    const SaveTokenizerOptions& options) {
  check_special_tokens(options.special_tokens);
  TokenizerConfig config;
  config.normalizer.lowercase = options.lower_case;
  Added added;
  for (const auto& t : options.special_tokens) added.emplace_back(t, true);
  write_folder(dir, vocab, config, added);
}

void save_pretrained(const Tokenizer& tokenizer, const std::string& dir) {
  const TokenizerConfig& c = tokenizer.config();
  // The role tokens and the other added tokens, as tokenizer.json lists them: by id, each once.
  std::map<std::int32_t, std::pair<std::string, bool>> by_id;
  for (const std::string* t : {&c.pad_token, &c.wordpiece.unk_token, &c.cls_token, &c.sep_token, &c.mask_token})
    if (std::int32_t id = tokenizer.token_to_id(*t); id >= 0) by_id[id] = {*t, true};
  for (const auto& [t, special] : c.added_tokens) by_id.emplace(tokenizer.token_to_id(t), std::pair{t, special});
  Added added;
  for (auto& [id, token] : by_id) added.push_back(token);
  write_folder(dir, tokenizer.vocab().tokens(), c, added);
}

}  // namespace bertforge::text
