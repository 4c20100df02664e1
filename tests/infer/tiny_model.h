// A tiny model folder for the infer tests: a 40-token vocabulary (BERT's five special tokens, words,
// punctuation, "##" pieces) written by text::save_tokenizer, and a freshly initialised 2-layer model saved
// by model::save_pretrained. Removed when the object dies.
#pragma once
#include <unistd.h>

#include <torch/utils.h>

#include <filesystem>
#include <string>
#include <vector>

#include "bertforge/model/pretrained.h"
#include "bertforge/text/save_tokenizer.h"

namespace bertforge::testing {

inline std::vector<std::string> tiny_vocab() {
  std::vector<std::string> v{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  for (const char* w : {"the", "cat", "sat", "on", "mat", "dog", "ran", "to", "a", "house", "paris", "is", "capital",
                        "of", "france", "big", "small", "red", "blue", "and", "it", "was", ".", ",", "##s", "##ed",
                        "##ing", "in", "city", "river", "green"})
    v.push_back(w);
  return v;
}

struct TinyModel {
  std::filesystem::path dir;
  explicit TinyModel(const std::string& name, bool with_tokenizer = true, std::int64_t vocab_size = 0) {
    dir = std::filesystem::temp_directory_path() / ("bf_infer_" + name + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto vocab = tiny_vocab();
    if (with_tokenizer) {
      text::SaveTokenizerOptions o;
      o.lower_case = true;
      text::save_tokenizer(dir.string(), vocab, o);
    }
    model::BertConfig c = model::BertConfig::preset("tiny");
    c.vocab_size = vocab_size ? vocab_size : static_cast<std::int64_t>(vocab.size());
    c.max_position_embeddings = 32;
    c.initializer_range = 0.5;  // logits far apart, so rankings are not decided by rounding
    torch::manual_seed(7);
    model::BertForPreTraining m(c);
    model::save_pretrained(*m, dir.string());
  }
  ~TinyModel() { std::filesystem::remove_all(dir); }
  std::string path() const { return dir.string(); }
};

}  // namespace bertforge::testing
