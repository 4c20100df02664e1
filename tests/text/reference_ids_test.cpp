// Acceptance: tests/fixtures/reference/wiki.valid.<vocab>.ids (made by HF BertTokenizerFast, no special
// tokens) matched exactly, line for line, over wikitext-103-raw/wiki.valid.raw.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "bertforge/text/tokenizer.h"
#include "common/shared_data.h"

using bertforge::text::Tokenizer;
using bertforge::text::TokenizerOptions;

namespace {

void expect_reference_ids(const Tokenizer& tok, const std::string& raw_path, const std::string& ids_path) {
  std::ifstream raw(raw_path), ref(ids_path);
  std::string text, expected;
  std::size_t line = 0, mismatches = 0;
  while (std::getline(raw, text)) {
    ++line;
    ASSERT_TRUE(std::getline(ref, expected)) << ids_path << " ends before line " << line;
    std::ostringstream got;
    for (auto id : tok.encode(text)) got << (got.tellp() ? " " : "") << id;
    if (got.str() != expected && ++mismatches <= 5)
      ADD_FAILURE() << raw_path << ":" << line << "\n  got      " << got.str() << "\n  expected " << expected;
  }
  EXPECT_FALSE(std::getline(ref, expected)) << ids_path << " has more lines than " << raw_path;
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(line, 3760u);
}

}  // namespace

TEST(ReferenceIds, BertBaseCasedOverWikiValid) {
  SHARED_DATA(raw, "wikitext-103-raw/wiki.valid.raw");
  SHARED_DATA(ids, "reference/wiki.valid.bert-base-cased.ids");
  SHARED_DATA(folder, "vocab/bert-base-cased");  // tokenizer_config.json says do_lower_case false
  expect_reference_ids(Tokenizer::from_pretrained(folder), raw, ids);
}

TEST(ReferenceIds, BertBaseUncasedOverWikiValid) {
  SHARED_DATA(raw, "wikitext-103-raw/wiki.valid.raw");
  SHARED_DATA(ids, "reference/wiki.valid.bert-base-uncased.ids");
  SHARED_DATA(vocab, "vocab/bert-base-uncased/vocab.txt");
  TokenizerOptions options;
  options.lower_case = true;
  expect_reference_ids(Tokenizer::from_pretrained(vocab, options), raw, ids);
}
