#include "bertforge/text/save_tokenizer.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "bertforge/util/atomic_file.h"
#include "bertforge/util/error.h"

namespace bertforge::text {

namespace {

using Json = nlohmann::ordered_json;  // HF's key order, so files diff cleanly against HF's own

Json special_piece(const std::string& token, int type_id) {
  return {{"SpecialToken", {{"id", token}, {"type_id", type_id}}}};
}

Json sequence_piece(const std::string& id, int type_id) {
  return {{"Sequence", {{"id", id}, {"type_id", type_id}}}};
}

Json post_processor(const std::unordered_map<std::string, int>& ids) {
  Json specials = Json::object();
  for (const char* t : {"[CLS]", "[SEP]"})
    specials[t] = {{"id", t}, {"ids", {ids.at(t)}}, {"tokens", {t}}};
  return {{"type", "TemplateProcessing"},
          {"single", {special_piece("[CLS]", 0), sequence_piece("A", 0), special_piece("[SEP]", 0)}},
          {"pair",
           {special_piece("[CLS]", 0), sequence_piece("A", 0), special_piece("[SEP]", 0),
            sequence_piece("B", 1), special_piece("[SEP]", 1)}},
          {"special_tokens", specials}};
}

Json tokenizer_json(const std::vector<std::string>& vocab, const std::unordered_map<std::string, int>& ids,
                    const SaveTokenizerOptions& o) {
  Json added = Json::array();
  for (const auto& t : o.special_tokens)
    added.push_back({{"id", ids.at(t)}, {"content", t}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", true}});
  Json model_vocab = Json::object();
  for (std::size_t i = 0; i < vocab.size(); ++i) model_vocab[vocab[i]] = i;
  return {{"version", "1.0"},
          {"truncation", nullptr},
          {"padding", nullptr},
          {"added_tokens", added},
          {"normalizer",
           {{"type", "BertNormalizer"}, {"clean_text", true}, {"handle_chinese_chars", true},
            {"strip_accents", nullptr}, {"lowercase", o.lower_case}}},
          {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
          {"post_processor", post_processor(ids)},
          {"decoder", {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}}},
          {"model",
           {{"type", "WordPiece"}, {"unk_token", "[UNK]"}, {"continuing_subword_prefix", "##"},
            {"max_input_chars_per_word", 100}, {"vocab", model_vocab}}}};
}

Json tokenizer_config(const std::unordered_map<std::string, int>& ids, const SaveTokenizerOptions& o) {
  Json config = {{"do_lower_case", o.lower_case}, {"strip_accents", nullptr}, {"tokenize_chinese_chars", true},
                 {"tokenizer_class", "BertTokenizer"}, {"model_max_length", 512}};
  for (auto [key, token] : {std::pair{"unk_token", "[UNK]"}, {"sep_token", "[SEP]"}, {"pad_token", "[PAD]"},
                            {"cls_token", "[CLS]"}, {"mask_token", "[MASK]"}})
    if (ids.count(token)) config[key] = token;
  return config;
}

void write(const std::filesystem::path& path, const std::string& text) {
  AtomicFile out(path.string());
  out.stream() << text;
  out.commit();
}

}  // namespace

void check_special_tokens(const std::vector<std::string>& special_tokens) {
  for (const char* required : {"[UNK]", "[CLS]", "[SEP]"})
    if (std::find(special_tokens.begin(), special_tokens.end(), required) == special_tokens.end())
      throw Error(std::string("the special tokens must include ") + required);
}

void save_tokenizer(const std::string& dir, const std::vector<std::string>& vocab,
                    const SaveTokenizerOptions& options) {
  std::filesystem::path out(dir);
  std::unordered_map<std::string, int> ids;
  for (std::size_t i = 0; i < vocab.size(); ++i)
    if (!ids.emplace(vocab[i], static_cast<int>(i)).second)
      fail_at((out / "vocab.txt").string(), i + 1, "duplicate token '" + vocab[i] + "'");
  check_special_tokens(options.special_tokens);
  for (const auto& t : options.special_tokens)
    if (!ids.count(t)) throw Error("special token '" + t + "' is not in the vocabulary");
  std::string vocab_txt;
  for (const auto& t : vocab) vocab_txt += t + "\n";
  std::filesystem::create_directories(out);
  write(out / "vocab.txt", vocab_txt);
  write(out / "tokenizer.json", tokenizer_json(vocab, ids, options).dump(2) + "\n");
  write(out / "tokenizer_config.json", tokenizer_config(ids, options).dump(2) + "\n");
}

}  // namespace bertforge::text
