// vocab.txt (text/vocab.h) and a tokenizer built on it: a parsed vocabulary maps every id to its token and
// back, and the tokenizer made from it encodes and decodes a fixed text, or names the file in its error.
#include <optional>

#include "bertforge/text/tokenizer.h"
#include "bertforge/text/vocab.h"
#include "harness.h"

using namespace bertforge;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::fresh_dir() + "/vocab.txt";
  fuzz::write_file(path, {reinterpret_cast<const char*>(data), size});
  text::Vocab vocab;
  if (!fuzz::parses([&] { vocab = text::Vocab::load_txt(path); }, path)) return 0;
  for (std::int32_t id = 0; id < vocab.size(); ++id)
    if (vocab.find(vocab.token(id)) != id) fuzz::finding("token " + std::to_string(id) + " does not map back");
  std::optional<text::Tokenizer> tok;
  if (!fuzz::parses([&] { tok.emplace(text::Tokenizer::from_pretrained(path)); }, path)) return 0;
  // A vocabulary may lack [CLS] or [SEP]: encoding with special tokens is then an Error naming the file.
  fuzz::parses(
      [&] {
        auto ids = tok->encode_plus("Hello, wörld! 中文 [MASK] unaffable", "second [SEP] text").input_ids;
        tok->decode(ids, true);
      },
      path);
  return 0;
}
