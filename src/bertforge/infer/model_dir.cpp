#include "bertforge/infer/model_dir.h"

#include <filesystem>

#include "bertforge/model/pretrained.h"
#include "bertforge/util/error.h"

namespace fs = std::filesystem;

namespace bertforge::infer {

std::string find_tokenizer(const std::string& dir, const std::string& tokenizer) {
  if (!tokenizer.empty()) {
    if (!fs::exists(tokenizer)) fail_at(tokenizer, 0, "no such tokenizer folder or vocab.txt");
    return tokenizer;
  }
  for (const char* name : {"tokenizer.json", "vocab.txt"})
    if (fs::exists(fs::path(dir) / name)) return dir;
  fail_at(dir, 0, "no vocabulary in the model folder (vocab.txt or tokenizer.json); pass --tokenizer");
}

ModelDir open_model_dir(const std::string& dir, const std::string& tokenizer, c10::Device device) {
  if (!fs::is_directory(dir)) fail_at(dir, 0, "no such model folder");
  std::string source = find_tokenizer(dir, tokenizer);
  text::Tokenizer tok = text::Tokenizer::from_pretrained(source);
  std::string config = (fs::path(dir) / "config.json").string();
  std::int64_t model_vocab = model::BertConfig::load(config).vocab_size;  // checked before the weights load
  if (tok.vocab_size() != model_vocab)
    fail_at(source, 0, "the vocabulary has " + std::to_string(tok.vocab_size()) + " tokens but " + config +
                           " has vocab_size " + std::to_string(model_vocab));
  if (tok.mask_id() < 0) fail_at(source, 0, "the vocabulary has no " + tok.config().mask_token + " token");
  model::BertForPreTraining m = model::from_pretrained(dir, device).model;
  m->eval();
  return {dir, source, m, std::move(tok), device};
}

}  // namespace bertforge::infer
