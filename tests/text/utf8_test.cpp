#include "bertforge/text/utf8.h"

#include <gtest/gtest.h>

#include "bertforge/util/error.h"

using namespace bertforge::text;

TEST(Utf8, DecodesAndEncodesEveryLength) {
  std::string s;
  for (char32_t c : {U'a', U'\u00E9', U'\u6771', U'\U0001F600'}) append_utf8(s, c);
  EXPECT_EQ(s, "a\u00E9\u6771\U0001F600");
  std::size_t i = 0;
  std::u32string back;
  while (i < s.size()) back += decode_utf8(s, i);
  EXPECT_EQ(back, U"a\u00E9\u6771\U0001F600");
  EXPECT_EQ(find_invalid_utf8(s), std::string::npos);
}

TEST(Utf8, ReplacesMaximalSubpartsLikePython) {
  // Python: b"...".decode("utf-8", "replace") gives one U+FFFD per maximal subpart.
  EXPECT_EQ(replace_invalid_utf8("a\xE2\x82" "b"), "a\uFFFD" "b");             // truncated 3-byte sequence
  EXPECT_EQ(replace_invalid_utf8("\xED\xA0\x80"), "\uFFFD\uFFFD\uFFFD");       // surrogate
  EXPECT_EQ(replace_invalid_utf8("\xC0\xAF"), "\uFFFD\uFFFD");                 // overlong
  EXPECT_EQ(replace_invalid_utf8("\xF4\x90\x80\x80"), "\uFFFD\uFFFD\uFFFD\uFFFD");  // above U+10FFFF
  EXPECT_EQ(replace_invalid_utf8("x\xF0\x9F\x98"), "x\uFFFD");                 // truncated at the end
}

TEST(Utf8, StrictCheckNamesFileLineAndByte) {
  try {
    check_utf8("ok \xFF", "in.txt", 7);
    FAIL();
  } catch (const bertforge::Error& e) {
    EXPECT_STREQ(e.what(), "in.txt:7: invalid UTF-8 at byte 4 of the line");
  }
}
