#include "bertforge/infer/fill_mask.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>

#include "bertforge/util/error.h"
#include "infer/tiny_model.h"

using namespace bertforge::infer;
using bertforge::testing::TinyModel;
using ::testing::HasSubstr;

namespace {

struct FillMaskTest : ::testing::Test {
  TinyModel tiny{"fill"};
  ModelDir m = open_model_dir(tiny.path(), "", c10::kCPU);

  // Softmax of the dense head at position `at` of `text`, the way HF's pipeline computes it.
  at::Tensor dense_probs(const std::string& text, std::int64_t at) {
    auto ids = m.tokenizer.encode_plus(text).input_ids;
    at::NoGradGuard no_grad;
    m.model->sparse_mlm = false;
    auto out = m.model->forward(at::tensor(ids, at::kInt).to(at::kLong).unsqueeze(0));
    return out.prediction_logits[0][at].softmax(-1);
  }
};

TEST_F(FillMaskTest, ScoresAreTheSoftmaxOverTheWholeVocabulary) {
  FillMaskOptions o;
  o.include_special = true;
  auto r = fill_mask(m, {"paris is the [MASK] of france ."}, o);
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(r[0].size(), 1u);
  auto [values, tokens] = dense_probs("paris is the [MASK] of france .", 4).topk(5);
  ASSERT_EQ(r[0][0].proposals.size(), 5u);
  for (int j = 0; j < 5; ++j) {
    EXPECT_EQ(r[0][0].proposals[j].token, tokens[j].item<std::int64_t>());
    EXPECT_NEAR(r[0][0].proposals[j].score, values[j].item<double>(), 1e-6);
    EXPECT_EQ(r[0][0].proposals[j].token_str, m.tokenizer.decode({r[0][0].proposals[j].token}));
  }
  // The sequence is the decoded text with that token in place of [MASK] (specials skipped: a single mask).
  for (const auto& p : r[0][0].proposals)
    if (std::isalpha(static_cast<unsigned char>(p.token_str[0])))
      EXPECT_EQ(p.sequence, "paris is the " + p.token_str + " of france.");
}

TEST_F(FillMaskTest, SpecialTokensAreNeverProposedButKeepTheirProbabilityMass) {
  FillMaskOptions o;
  o.top_k = 100;  // more than the vocabulary: every non-special token, best first
  auto r = fill_mask(m, {"the [MASK] sat"}, o);
  const auto& p = r[0][0].proposals;
  EXPECT_EQ(p.size(), 31u);  // 36 tokens - 5 special
  double sum = 0;
  for (std::size_t j = 0; j < p.size(); ++j) {
    EXPECT_FALSE(m.tokenizer.is_special(p[j].token)) << p[j].token_str;
    if (j) EXPECT_GE(p[j - 1].score, p[j].score);
    sum += p[j].score;
  }
  at::Tensor probs = dense_probs("the [MASK] sat", 2);
  double special = 0;
  for (int id = 0; id < 5; ++id) special += probs[id].item<double>();
  EXPECT_NEAR(sum + special, 1.0, 1e-5);
}

TEST_F(FillMaskTest, BatchesGiveWhatOneTextAtATimeGives) {
  std::vector<std::string> texts{"the [MASK] sat on the mat .", "[MASK] ran", "a big [MASK] house and a [MASK] river"};
  FillMaskOptions batched;
  batched.batch_size = 3;
  FillMaskOptions single;
  single.batch_size = 1;
  auto a = fill_mask(m, texts, batched), b = fill_mask(m, texts, single);
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(a[2].size(), 2u);  // two masks: one list each
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t k = 0; k < a[i].size(); ++k)
      for (std::size_t j = 0; j < 5; ++j) {
        EXPECT_EQ(a[i][k].proposals[j].token, b[i][k].proposals[j].token);
        EXPECT_NEAR(a[i][k].proposals[j].score, b[i][k].proposals[j].score, 1e-5);
      }
  // Several masks: the other [MASK] stays visible in the sequence, as in HF's pipeline.
  EXPECT_THAT(a[2][0].proposals[0].sequence, HasSubstr("[MASK] river"));
  EXPECT_EQ(to_json(a[2]).size(), 2u);
  EXPECT_TRUE(to_json(a[0])[0].contains("token_str"));
}

// An answer's rank counts the proposable tokens scored above it: the k-th proposal has rank k, with its score.
TEST_F(FillMaskTest, AnswersAreRankedAmongTheProposals) {
  auto top = fill_mask(m, {"the [MASK] sat"}, {})[0][0].proposals;
  for (std::size_t k : {0, 4}) {
    auto r = fill_mask(m, {"the [MASK] sat"}, {}, "", {{top[k].token_str}});
    ASSERT_TRUE(r[0][0].answer.has_value());
    EXPECT_EQ(r[0][0].answer->rank, static_cast<std::int64_t>(k + 1));
    EXPECT_EQ(r[0][0].answer->token, top[k].token);
    EXPECT_DOUBLE_EQ(r[0][0].answer->score, top[k].score);
  }
}

TEST_F(FillMaskTest, BadInputsNameTheirLine) {
  auto error_of = [&](const std::vector<std::string>& texts, const std::string& source) -> std::string {
    try {
      fill_mask(m, texts, {}, source);
    } catch (const bertforge::Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_EQ(error_of({"the [MASK]", "no mask here"}, "in.txt"), "in.txt:2: no [MASK] token in the text");
  EXPECT_EQ(error_of({"no mask here"}, ""), "text 1: no [MASK] token in the text");
  std::string long_text = "[MASK]";
  for (int i = 0; i < 40; ++i) long_text += " cat";
  EXPECT_THAT(error_of({long_text}, ""),
              HasSubstr("exceed the model's max_position_embeddings 32"));
}

}  // namespace
