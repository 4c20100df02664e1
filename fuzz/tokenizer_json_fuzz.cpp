// tokenizer.json and tokenizer_config.json (text/tokenizer_files.cpp): the input before its first NUL is
// tokenizer.json, the rest (when there is a NUL) tokenizer_config.json. A tokenizer that loads encodes and
// decodes a fixed text without error.
#include <optional>

#include "bertforge/text/tokenizer.h"
#include "harness.h"

using namespace bertforge;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string dir = fuzz::fresh_dir();
  auto [json, config] = fuzz::split_at_nul(data, size);
  fuzz::write_file(dir + "/tokenizer.json", json);
  if (config.data() != nullptr) fuzz::write_file(dir + "/tokenizer_config.json", config);
  std::optional<text::Tokenizer> tok;
  if (!fuzz::parses([&] { tok.emplace(text::Tokenizer::from_pretrained(dir)); }, dir)) return 0;
  text::EncodeOptions o;
  o.truncation = text::Truncation::longest_first;
  o.max_length = 16;
  o.padding = text::Padding::max_length;
  // The vocabulary may lack [CLS], [SEP] or [PAD]: encoding is then an Error naming the file.
  fuzz::parses(
      [&] {
        auto ids = tok->encode_plus("Hello, wörld! 中文 [MASK] unaffable", "second [SEP] text", o).input_ids;
        tok->decode(ids, true, true);
      },
      dir);
  return 0;
}
