#include "bertforge/text/tokenizer.h"

#include <gtest/gtest.h>

#include <sstream>

#include "bertforge/text/tokenize_stream.h"
#include "bertforge/util/error.h"

using namespace bertforge::text;
using Ids = std::vector<std::int32_t>;

namespace {
// ids: [PAD]0 [UNK]1 [CLS]2 [SEP]3 [MASK]4 a5 b6 c7 d8 ##s9 .10 '11 s12
Tokenizer tiny(bool lower = false) {
  TokenizerConfig config;
  config.normalizer.lowercase = lower;
  return Tokenizer(Vocab::from_tokens({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c", "d", "##s", ".",
                                       "'", "s"},
                                      "tiny"),
                   config, "tiny");
}

EncodeOptions truncate_to(int max_length, Truncation t, Padding p = Padding::none) {
  EncodeOptions o;
  o.max_length = max_length;
  o.truncation = t;
  o.padding = p;
  return o;
}
}  // namespace

TEST(Tokenizer, EncodesWithoutSpecialTokensAndKeepsSpecialsWhole) {
  Tokenizer t = tiny(true);
  EXPECT_EQ(t.encode("A as [MASK]b x"), (Ids{5, 5, 9, 4, 6, 1}));
  EXPECT_EQ(t.tokenize("As."), (std::vector<std::string>{"a", "##s", "."}));
  EXPECT_EQ(t.cls_id(), 2);
  EXPECT_EQ(t.sep_id(), 3);
  EXPECT_EQ(t.pad_id(), 0);
  EXPECT_EQ(t.mask_id(), 4);
  EXPECT_EQ(t.unk_id(), 1);
  EXPECT_TRUE(t.is_special(4));
  EXPECT_FALSE(t.is_special(5));
  EXPECT_EQ(t.id_to_token(9), "##s");
}

TEST(Tokenizer, PairsGetSpecialTokensTypeIdsAndPadding) {
  Tokenizer t = tiny();
  Encoding e = t.encode_plus("a b", "c", truncate_to(8, Truncation::longest_first, Padding::max_length));
  EXPECT_EQ(e.input_ids, (Ids{2, 5, 6, 3, 7, 3, 0, 0}));
  EXPECT_EQ(e.token_type_ids, (Ids{0, 0, 0, 0, 1, 1, 0, 0}));
  EXPECT_EQ(e.attention_mask, (Ids{1, 1, 1, 1, 1, 1, 0, 0}));
}

TEST(Tokenizer, TruncationStrategiesFollowHf) {
  Tokenizer t = tiny();
  auto ids = [&](const char* a, const char* b, Truncation s) { return t.encode_plus(a, b, truncate_to(8, s)).input_ids; };
  // 5 ids of room: longest_first cuts the longer first, then splits evenly (odd one to the longer).
  EXPECT_EQ(ids("a", "b b b b b b", Truncation::longest_first), (Ids{2, 5, 3, 6, 6, 6, 6, 3}));
  EXPECT_EQ(ids("a a a a", "b b b b b b", Truncation::longest_first), (Ids{2, 5, 5, 3, 6, 6, 6, 3}));
  EXPECT_EQ(ids("a a a a", "b b", Truncation::only_first), (Ids{2, 5, 5, 5, 3, 6, 6, 3}));
  EXPECT_EQ(ids("a a", "b b b b", Truncation::only_second), (Ids{2, 5, 5, 3, 6, 6, 6, 3}));
  EXPECT_THROW(ids("a a a a a a", "b", Truncation::only_second), bertforge::Error);
  EXPECT_EQ(t.encode_plus("a a a a a a a a a", truncate_to(4, Truncation::longest_first)).input_ids, (Ids{2, 5, 5, 3}));
}

TEST(Tokenizer, BatchPadsToLongest) {
  Tokenizer t = tiny();
  EncodeOptions o;
  o.padding = Padding::longest;
  auto batch = t.encode_batch(std::vector<std::string>{"a", "a b c"}, o);
  EXPECT_EQ(batch[0].input_ids, (Ids{2, 5, 3, 0, 0}));
  EXPECT_EQ(batch[0].attention_mask, (Ids{1, 1, 1, 0, 0}));
  EXPECT_EQ(batch[1].input_ids, (Ids{2, 5, 6, 7, 3}));
}

TEST(Tokenizer, DecodeJoinsPiecesAndCleansSpaces) {
  Tokenizer t = tiny();
  Ids ids = t.encode_plus("a as . b ' s").input_ids;
  EXPECT_EQ(t.decode(ids), "[CLS] a as. b ' s [SEP]");
  EXPECT_EQ(t.decode(ids, true), "a as. b ' s");
  EXPECT_EQ(t.decode(ids, true, true), "a as. b's");
}

TEST(TokenizeStream, PreservesOrderAcrossThreadsAndSmallChunks) {
  Tokenizer t = tiny();
  std::string input, expected;
  for (int i = 0; i < 500; ++i) {
    input += std::string(i % 7, 'a') + (i % 3 ? " b" : "") + "\n";
    std::string line;
    for (auto id : t.encode(std::string(i % 7, 'a') + (i % 3 ? " b" : ""))) line += (line.empty() ? "" : " ") + std::to_string(id);
    expected += line + "\n";
  }
  input += "c d";  // no final newline: still one output line
  expected += "7 8\n";
  std::istringstream in(input);
  std::ostringstream out;
  TokenizeStreamOptions o;
  o.lines.threads = 3;
  o.lines.chunk_bytes = 64;
  EXPECT_EQ(tokenize_stream(t, in, "in.txt", out, o), 501u);
  EXPECT_EQ(out.str(), expected);
}

TEST(TokenizeStream, InvalidUtf8NamesTheLineOrIsReplaced) {
  Tokenizer t = tiny();
  std::string input = "a\nb\nc\xFF" "d\n";
  TokenizeStreamOptions o;
  o.lines.threads = 2;
  o.lines.chunk_bytes = 2;
  std::istringstream in(input);
  std::ostringstream out;
  try {
    tokenize_stream(t, in, "in.txt", out, o);
    FAIL();
  } catch (const bertforge::Error& e) {
    EXPECT_STREQ(e.what(), "in.txt:3: invalid UTF-8 at byte 2 of the line");
  }
  o.replace_errors = true;
  o.format = OutputFormat::tokens;
  std::istringstream again(input);
  std::ostringstream replaced;
  tokenize_stream(t, again, "in.txt", replaced, o);
  EXPECT_EQ(replaced.str(), "a\nb\n[UNK]\n");  // c U+FFFD d: clean_text drops U+FFFD, "cd" is unknown
}

TEST(TokenizeStream, PairsWithSpecialTokensAsJsonAndDecodeBack) {
  Tokenizer t = tiny();
  TokenizeStreamOptions o;
  o.pairs = true;
  o.format = OutputFormat::jsonl;
  o.encode.add_special_tokens = true;
  o.encode.max_length = 7;
  o.encode.padding = Padding::max_length;
  std::istringstream in("a b\tc\nd\n");
  std::ostringstream out;
  tokenize_stream(t, in, "in.txt", out, o);
  EXPECT_EQ(out.str(),
            "{\"input_ids\": [2,5,6,3,7,3,0], \"token_type_ids\": [0,0,0,0,1,1,0], \"attention_mask\": [1,1,1,1,1,1,0]}\n"
            "{\"input_ids\": [2,8,3,0,0,0,0], \"token_type_ids\": [0,0,0,0,0,0,0], \"attention_mask\": [1,1,1,0,0,0,0]}\n");
  DecodeStreamOptions d;
  d.skip_special_tokens = true;
  std::istringstream ids("2 5 9 6 3 0\n\n5 x\n");
  std::ostringstream text;
  try {
    decode_stream(t, ids, "ids.txt", text, d);
    FAIL();
  } catch (const bertforge::Error& e) {
    EXPECT_STREQ(e.what(), "ids.txt:3: not a token id: \"x\"");
  }
  std::istringstream good("2 5 9 6 3 0\n\n");
  std::ostringstream decoded;
  decode_stream(t, good, "ids.txt", decoded, d);
  EXPECT_EQ(decoded.str(), "as b\n\n");
}
