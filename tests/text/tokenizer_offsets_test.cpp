// Tokenizer offsets (EncodeOptions::return_offsets_mapping) against HF BertTokenizerFast's offset_mapping:
// tests/golden/token_pipeline.json, written by tools/gen_golden/token_pipeline.py, over texts with accents,
// upper case, punctuation, CJK, emoji, [UNK] words, runs of spaces and tabs, words over 100 characters and
// control characters, for an uncased and a cased vocabulary and the normalizer's switches, and truncated
// pairs. Offsets must be equal. No LibTorch: this test
// also runs in test_torch_free.
#include <gtest/gtest.h>

#include "bertforge/text/tokenizer.h"
#include "bertforge/text/utf8.h"
#include "bertforge/util/error.h"
#include "bertforge/util/json_file.h"
#include "common/golden.h"

using namespace bertforge;
using namespace bertforge::text;
using nlohmann::json;

namespace {

const json& golden() { return ::bertforge::testing::golden("token_pipeline.json"); }

Tokenizer tokenizer_of(const json& config) { return ::bertforge::testing::golden_tokenizer(config); }

EncodeOptions with_offsets() {
  EncodeOptions o;
  o.return_offsets_mapping = true;
  return o;
}

// Byte offsets are the code-point offsets counted in bytes: both name the same characters.
void expect_bytes_match_code_points(const std::string& text, const Encoding& e) {
  const std::vector<std::uint32_t> index = code_point_index(text);
  ASSERT_EQ(e.byte_offsets.size(), e.offsets.size());
  for (std::size_t i = 0; i < e.offsets.size(); ++i) {
    EXPECT_EQ(index[e.byte_offsets[i].first], e.offsets[i].first) << i;
    EXPECT_EQ(index[e.byte_offsets[i].second], e.offsets[i].second) << i;
  }
}

}  // namespace

TEST(TokenizerOffsets, EqualHfOffsetMapping) {
  for (const json& set : golden().at("offsets")) {
    Tokenizer tok = tokenizer_of(set.at("config"));
    for (const json& row : set.at("rows")) {
      const std::string text = row.at("text");
      SCOPED_TRACE(set.at("config").dump() + ": " + text);
      Encoding e = tok.encode_plus(text, with_offsets());
      EXPECT_EQ(e.input_ids, row.at("input_ids").get<std::vector<std::int32_t>>());
      EXPECT_EQ(e.offsets, (row.at("offsets").get<std::vector<Offset>>()));
      expect_bytes_match_code_points(text, e);
      // The offsets path gives the hot path's ids.
      EXPECT_EQ(tok.encode_plus(text).input_ids, e.input_ids);
    }
  }
}

TEST(TokenizerOffsets, PairsTruncatedEqualHf) {
  const json& pairs = golden().at("pairs");
  Tokenizer tok = tokenizer_of(pairs.at("config"));
  for (const json& row : pairs.at("rows")) {
    SCOPED_TRACE(row.dump());
    EncodeOptions o = with_offsets();
    o.max_length = row.at("max_length").get<int>();
    const std::string truncation = row.at("truncation");
    o.truncation = truncation == "longest_first" ? Truncation::longest_first
                   : truncation == "only_first"  ? Truncation::only_first
                                                 : Truncation::only_second;
    Encoding e = tok.encode_plus(row.at("a").get<std::string>(), row.at("b").get<std::string>(), o);
    EXPECT_EQ(e.input_ids, row.at("input_ids").get<std::vector<std::int32_t>>());
    EXPECT_EQ(e.offsets, (row.at("offsets").get<std::vector<Offset>>()));
  }
}

TEST(TokenizerOffsets, FollowTruncationPairsAndPadding) {
  Tokenizer tok = tokenizer_of(golden().at("offsets")[0].at("config"));
  EncodeOptions o = with_offsets();
  o.truncation = Truncation::longest_first;
  o.max_length = 8;
  o.padding = Padding::max_length;
  // "héllo wörld" + "a b c d e f": the second text is cut to 3 ids and counts from its own start.
  Encoding e = tok.encode_plus("Héllo Wörld", "a b c d e f", o);
  ASSERT_EQ(e.input_ids.size(), 8u);
  EXPECT_EQ(e.offsets, (std::vector<Offset>{{0, 0}, {0, 5}, {6, 11}, {0, 0}, {0, 1}, {2, 3}, {4, 5}, {0, 0}}));
  EXPECT_EQ(e.byte_offsets,
            (std::vector<Offset>{{0, 0}, {0, 6}, {7, 13}, {0, 0}, {0, 1}, {2, 3}, {4, 5}, {0, 0}}));
  o.max_length = 12;
  e = tok.encode_plus("Héllo", o);
  EXPECT_EQ(e.offsets.size(), 12u);
  EXPECT_EQ(e.offsets.back(), (Offset{0, 0}));
  EXPECT_TRUE(tok.encode_plus("Héllo").offsets.empty());  // not asked for: not paid for
  EXPECT_THROW(tok.prepare_for_model({5}, nullptr, with_offsets()), Error);
}

TEST(TokenizerOffsets, BatchesPadOffsetsToTheLongest) {
  Tokenizer tok = tokenizer_of(golden().at("offsets")[1].at("config"));
  EncodeOptions o = with_offsets();
  o.padding = Padding::longest;
  std::vector<Encoding> batch = tok.encode_batch(std::vector<std::string>{"a", "a b c"}, o);
  EXPECT_EQ(batch[0].offsets, (std::vector<Offset>{{0, 0}, {0, 1}, {0, 0}, {0, 0}, {0, 0}}));
  EXPECT_EQ(batch[1].offsets, (std::vector<Offset>{{0, 0}, {0, 1}, {2, 3}, {4, 5}, {0, 0}}));
}
