#include <gtest/gtest.h>

#include "bertforge/data/sentences.h"

using bertforge::data::split_sentences;
using V = std::vector<std::string>;

static V split(const char* text) {
  V out;
  for (auto s : split_sentences(text)) out.emplace_back(s);
  return out;
}

TEST(Sentences, PlainProse) {
  EXPECT_EQ(split("It rained. We stayed in! Did you? Yes."), (V{"It rained.", "We stayed in!", "Did you?", "Yes."}));
}

TEST(Sentences, WikiTextSpacedPunctuation) {
  EXPECT_EQ(split(" Homarus gammarus is a lobster . It is closely related to the American lobster , H. americanus . "
                  "It may grow to a length of 60 cm ( 24 in ) . "),
            (V{"Homarus gammarus is a lobster .", "It is closely related to the American lobster , H. americanus .",
               "It may grow to a length of 60 cm ( 24 in ) ."}));
}

TEST(Sentences, AbbreviationsAndInitials) {
  EXPECT_EQ(split("Mr. Smith met Dr. Jones at St. Paul's. They left."),
            (V{"Mr. Smith met Dr. Jones at St. Paul's.", "They left."}));
  EXPECT_EQ(split("J. R. R. Tolkien wrote it. It sold well."), (V{"J. R. R. Tolkien wrote it.", "It sold well."}));
  EXPECT_EQ(split("He moved to the U.S. He liked it, e.g. The food."),
            (V{"He moved to the U.S. He liked it, e.g. The food."}));
  EXPECT_EQ(split("See No. 5 and Fig. 2 for details. Done."), (V{"See No. 5 and Fig. 2 for details.", "Done."}));
}

TEST(Sentences, Decimals) {
  EXPECT_EQ(split("Pi is 3.14 roughly. It weighs 0.7 kg. Fine."),
            (V{"Pi is 3.14 roughly.", "It weighs 0.7 kg.", "Fine."}));
}

TEST(Sentences, LowercaseContinuationIsNotABoundary) {
  EXPECT_EQ(split("It costs 5 p. per item. Wait... what? No."), (V{"It costs 5 p. per item.", "Wait... what?", "No."}));
}

TEST(Sentences, Quotes) {
  EXPECT_EQ(split("He said \"Stop.\" Then he left."), (V{"He said \"Stop.\"", "Then he left."}));
  EXPECT_EQ(split("He said \" Stop . \" Then he left . \" Why ? \" she asked ."),
            (V{"He said \" Stop . \"", "Then he left .", "\" Why ? \" she asked ."}));
  EXPECT_EQ(split("It was \xE2\x80\x9C" "done.\xE2\x80\x9D After that, rest."),
            (V{"It was \xE2\x80\x9C" "done.\xE2\x80\x9D", "After that, rest."}));
}

TEST(Sentences, Brackets) {
  EXPECT_EQ(split("The lobster (see Fig. A. Also B.) is blue. Next."),
            (V{"The lobster (see Fig. A. Also B.) is blue.", "Next."}));
  EXPECT_EQ(split("It ended. (This is an aside.) Then more."), (V{"It ended.", "(This is an aside.)", "Then more."}));
}

TEST(Sentences, EdgeCases) {
  EXPECT_EQ(split(""), V{});
  EXPECT_EQ(split("   "), V{});
  EXPECT_EQ(split("no terminator at all"), (V{"no terminator at all"}));
  EXPECT_EQ(split("Ends with a dot."), (V{"Ends with a dot."}));
  EXPECT_EQ(split("Non-ASCII start. \xC3\x89mile came."), (V{"Non-ASCII start.", "\xC3\x89mile came."}));
}
