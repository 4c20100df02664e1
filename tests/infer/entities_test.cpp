// Token-classification entities (infer/entities.h) against HF's pipeline("token-classification",
// aggregation_strategy="simple"): tests/golden/token_pipeline.json's "pipeline" section, written by
// tools/gen_golden/token_pipeline.py from a small random BertForTokenClassification. Given HF's per-token
// probabilities, entity_group, word, start and end must be equal, and score within the tolerance table's
// token_pipeline row (relative; measured equal bit for bit). No LibTorch: this test also runs in test_torch_free.
#include "bertforge/infer/entities.h"

#include <gtest/gtest.h>

#include <cmath>

#include "bertforge/text/utf8.h"
#include "bertforge/util/error.h"
#include "bertforge/util/json_file.h"
#include "common/golden.h"

using namespace bertforge;
using namespace bertforge::infer;
using nlohmann::json;

namespace {

const json& golden() { return ::bertforge::testing::golden("token_pipeline.json"); }

double tolerance() { return ::bertforge::testing::tolerance_row("token_pipeline"); }

text::Tokenizer pipeline_tokenizer() { return ::bertforge::testing::golden_tokenizer(golden().at("pipeline").at("config")); }

text::EncodeOptions with_offsets() {
  text::EncodeOptions o;
  o.return_offsets_mapping = true;
  return o;
}

std::vector<float> flat(const json& rows) {
  std::vector<float> out;
  for (const json& row : rows)
    for (const json& p : row) out.push_back(p.get<float>());
  return out;
}

}  // namespace

TEST(Entities, EqualHfSimpleAggregation) {
  const text::Tokenizer tok = pipeline_tokenizer();
  const auto id2label = golden().at("pipeline").at("id2label").get<std::vector<std::string>>();
  std::size_t groups = 0;
  for (const json& row : golden().at("pipeline").at("rows")) {
    const std::string text = row.at("text");
    SCOPED_TRACE(text);
    text::Encoding e = tok.encode_plus(text, with_offsets());
    ASSERT_EQ(e.input_ids, row.at("input_ids").get<std::vector<std::int32_t>>());
    ASSERT_EQ(e.offsets, (row.at("offsets").get<std::vector<text::Offset>>()));
    const std::vector<Entity> got = simple_entities(text, e, flat(row.at("probabilities")), id2label, tok);
    const json& want = row.at("entities");
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      const json& w = want[i];
      EXPECT_EQ(got[i].entity_group, w.at("entity_group").get<std::string>()) << i;
      EXPECT_EQ(got[i].word, w.at("word").get<std::string>()) << i;
      EXPECT_EQ(got[i].start, w.at("start").get<std::uint32_t>()) << i;
      EXPECT_EQ(got[i].end, w.at("end").get<std::uint32_t>()) << i;
      const double score = w.at("score").get<double>();
      EXPECT_LE(std::abs(got[i].score - score), tolerance() * std::abs(score)) << i << ": " << got[i].score;
      EXPECT_EQ(text::code_point_index(text)[got[i].byte_start], got[i].start) << i;
      EXPECT_EQ(text::code_point_index(text)[got[i].byte_end], got[i].end) << i;
    }
    groups += got.size();
  }
  EXPECT_GT(groups, 40u);  // the golden's point: many groups, not a trivial one
}

// HF's group_entities on labels the golden's model does not use: a B- always starts a group, "O" groups and
// is dropped, a label without a prefix continues its own type, and the group's name follows the first "-".
TEST(Entities, GroupingRulesOfHf) {
  const text::Tokenizer tok = pipeline_tokenizer();
  const std::vector<std::string> id2label{"O", "B-PER", "I-PER", "MISC", "X-Y"};
  const std::string text = "Ann Bob Cy Dee in Rome Eve";
  text::Encoding e = tok.encode_plus(text, with_offsets());
  ASSERT_EQ(e.input_ids.size(), 9u);  // [CLS] Ann Bob Cy Dee in Rome Eve [SEP]
  // Each token's winning label, with probability 0.6 (0.1 for the others): [CLS] and [SEP] never count.
  const std::vector<int> wins{3, 1, 1, 2, 0, 3, 3, 4, 3};
  std::vector<float> p;
  for (int w : wins)
    for (int k = 0; k < 5; ++k) p.push_back(k == w ? 0.6f : 0.1f);
  std::vector<std::string> got;
  for (const Entity& x : simple_entities(text, e, p, id2label, tok))
    got.push_back(x.entity_group + ":" + x.word + ":" + std::to_string(x.start) + "-" + std::to_string(x.end));
  EXPECT_EQ(got, (std::vector<std::string>{"PER:Ann:0-3", "PER:Bob Cy:4-10", "MISC:in Rome:15-22", "Y:Eve:23-26"}));
}

TEST(Entities, JsonHasHfsKeysInHfsOrder) {
  const std::vector<Entity> entities{{"PER", 0.5, "John", 0, 4, 0, 4}};
  EXPECT_EQ(to_json(entities).dump(), R"([{"entity_group":"PER","score":0.5,"word":"John","start":0,"end":4}])");
}

TEST(Entities, BadSizesAreErrors) {
  const text::Tokenizer tok = pipeline_tokenizer();
  const std::vector<std::string> id2label{"O", "B-PER"};
  text::Encoding e = tok.encode_plus("John", with_offsets());
  EXPECT_THROW(simple_entities("John", e, std::vector<float>(3), id2label, tok), Error);
  EXPECT_THROW(simple_entities("John", tok.encode_plus("John"), std::vector<float>(6), id2label, tok), Error);
  EXPECT_THROW(simple_entities("Jo", e, std::vector<float>(2 * e.input_ids.size()), id2label, tok), Error);
  EXPECT_NO_THROW(simple_entities("John", e, std::vector<float>(2 * e.input_ids.size()), id2label, tok));
}
