#include "bertforge/text/basic_tokenizer.h"

#include <gtest/gtest.h>

using bertforge::text::BasicTokenizer;
using bertforge::text::NormalizerOptions;
using bertforge::text::Words;
using V = std::vector<std::string>;

namespace {
NormalizerOptions lower() {
  NormalizerOptions o;
  o.lowercase = true;
  return o;
}
}  // namespace

TEST(BasicTokenizer, SplitsOnWhitespaceAndAroundPunctuation) {
  BasicTokenizer t;
  EXPECT_EQ(t.words("  Hello,world! a$b+c^d`e  "), (V{"Hello", ",", "world", "!", "a", "$", "b", "+", "c", "^", "d", "`", "e"}));
  EXPECT_EQ(t.words("x\u2014y \u00BFz?"), (V{"x", "\u2014", "y", "\u00BF", "z", "?"}));  // Pd, Po
  EXPECT_TRUE(t.words(" \t\r\n").empty());
}

TEST(BasicTokenizer, CleansControlCharactersAndReplacementChar) {
  BasicTokenizer t;
  EXPECT_EQ(t.words(std::string("a\0b\x01" "c\xEF\xBF\xBD" "d\u200Be", 13)), (V{"abcde"}));  // NUL, Cc, U+FFFD, Cf
  EXPECT_EQ(t.words("a\u3000b\u00A0c\u2028d"), (V{"a", "b", "c", "d"}));                    // Unicode spaces
  NormalizerOptions raw;
  raw.clean_text = false;
  EXPECT_EQ(BasicTokenizer(raw).words("a\x01" "b"), (V{"a\x01" "b"}));
}

TEST(BasicTokenizer, SplitsCjkIdeographs) {
  BasicTokenizer t;
  EXPECT_EQ(t.words("ab東京cd"), (V{"ab", "東", "京", "cd"}));
  EXPECT_EQ(t.words("カタカナ"), (V{"カタカナ"}));  // kana are not ideographs
  NormalizerOptions keep;
  keep.handle_chinese_chars = false;
  EXPECT_EQ(BasicTokenizer(keep).words("ab東京cd"), (V{"ab東京cd"}));
}

TEST(BasicTokenizer, LowerCasesAndStripsAccentsLikeHf) {
  BasicTokenizer t(lower());
  EXPECT_EQ(t.words("Café NAÏVE Ελληνικά"), (V{"cafe", "naive", "ελληνικα"}));
  EXPECT_EQ(t.words("\u0130stanbul"), (V{"istanbul"}));  // strip first, then lower: no stray U+0307
  NormalizerOptions keep_accents = lower();
  keep_accents.strip_accents = false;
  EXPECT_EQ(BasicTokenizer(keep_accents).words("Café \u0130"), (V{"café", "i\u0307"}));  // full lower-case mapping
  NormalizerOptions cased;
  EXPECT_EQ(BasicTokenizer(cased).words("Café"), (V{"Café"}));
}

TEST(BasicTokenizer, NeverSplitsSpecialTokensMatchedInRawText) {
  BasicTokenizer t(lower(), {"[MASK]", "[SEP]", "[MASK]X"});
  Words w;
  t.split("Hello[MASK]world [mask] [SEP][MASK]Xy", w);
  std::vector<std::string> got;
  for (std::size_t i = 0; i < w.size(); ++i) got.emplace_back(w[i]);
  EXPECT_EQ(got, (V{"hello", "[MASK]", "world", "[", "mask", "]", "[SEP]", "[MASK]X", "y"}));
  EXPECT_EQ(w.special, (std::vector<std::int32_t>{-1, 0, -1, -1, -1, -1, 1, 2, -1}));
}
