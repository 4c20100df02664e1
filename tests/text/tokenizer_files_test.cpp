// Tokenizer files that are not what they claim (inputs of the vocab and tokenizer_json fuzz targets): parts of
// tokenizer.json or tokenizer_config.json with the wrong JSON type, a vocabulary without a special token.
// Each is an Error naming the file (and the key), not nlohmann's type_error.
#include <gtest/gtest.h>

#include "bertforge/text/tokenizer.h"
#include "common/replay.h"

using namespace bertforge::testing;
using bertforge::text::Tokenizer;

namespace {
const char* kModel = R"("model":{"type":"WordPiece","vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3,"[MASK]":4}})";
const char* kPre = R"("pre_tokenizer":{"type":"BertPreTokenizer"})";

void expect_refused(const std::string& name, const std::string& tokenizer_json, const std::string& part,
                    const std::string& config_json = "") {
  const std::string dir = replay_dir("tokenizer_" + name);
  write_bytes(dir + "/tokenizer.json", tokenizer_json);
  if (!config_json.empty()) write_bytes(dir + "/tokenizer_config.json", config_json);
  expect_error_containing([&] { Tokenizer::from_pretrained(dir); }, part);
}
}  // namespace

TEST(TokenizerFiles, PartsOfTheWrongTypeNameTheFileAndKey) {
  const std::string file = "/tokenizer.json: ";
  expect_refused("array", "[1]", file + "expected a JSON object");
  expect_refused("model", R"({"model":[]})", file + "model: expected an object, found []");
  expect_refused("type", R"({"model":{"type":7}})", file + "model.type must be WordPiece, found 7");
  expect_refused("pre", std::string("{") + kModel + R"(,"pre_tokenizer":"x"})",
                 file + "pre_tokenizer \"x\" is not supported");
  expect_refused("added", std::string("{") + kModel + "," + kPre + R"(,"added_tokens":{"a":1}})",
                 file + "added_tokens: expected a list");
  expect_refused("added_item", std::string("{") + kModel + "," + kPre + R"(,"added_tokens":[3]})",
                 file + "added_tokens[]: expected objects, found 3");
  expect_refused("special",
                 std::string("{") + kModel + "," + kPre + R"(,"added_tokens":[{"content":"x","special":1}]})",
                 file + "added_tokens[].special: unexpected value 1");
  expect_refused("decoder", std::string("{") + kModel + "," + kPre + R"(,"decoder":4})",
                 file + "decoder: expected an object");
  expect_refused("cleanup", std::string("{") + kModel + "," + kPre + R"(,"decoder":{"cleanup":"yes"}})",
                 file + "decoder.cleanup: unexpected value \"yes\"");
  // A number no int holds was cast unchecked (undefined behaviour): it is an unexpected value too.
  expect_refused("max_chars", std::string("{") + R"("model":{"type":"WordPiece","max_input_chars_per_word":1e30,)" +
                                  R"("vocab":{"[UNK]":0}},)" + kPre + "}",
                 file + "model.max_input_chars_per_word: unexpected value 1e+30");
  expect_refused("vocab_id", std::string("{") + R"("model":{"type":"WordPiece","vocab":{"[UNK]":4.3e32}},)" + kPre + "}",
                 file + "model.vocab: id 4.3e+32 of \"[UNK]\" is out of range or given twice");
  expect_refused("normalizer", std::string("{") + kModel + "," + kPre + R"(,"normalizer":[]})",
                 file + "normalizer: expected an object");
  expect_refused("config", std::string("{") + kModel + "," + kPre + "}",
                 "/tokenizer_config.json: expected a JSON object", "\"x\"");
}

// The vocab fuzz target's first crash (reduced): a vocabulary without [CLS] loads, and encoding with special
// tokens then fails naming the file (it named nothing).
TEST(TokenizerFiles, AVocabularyWithoutClsNamesItsFileWhenEncodingPairs) {
  const std::string path =
      write_bytes(replay_dir("no_cls") + "/vocab.txt", "[PAD]\r\n[UNK]\r\n[SEP]\r\n[MASK]\r\nhello\r\n");
  Tokenizer t = Tokenizer::from_pretrained(path);
  EXPECT_EQ(t.encode("hello"), std::vector<std::int32_t>{4});
  expect_error_containing([&] { t.encode_plus("hello", "hello"); },
                          path + ": special tokens need \"[CLS]\" and \"[SEP]\" in the vocabulary");
}
