#include "bertforge/infer/mlm_demo.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "infer/tiny_model.h"

using namespace bertforge;
using bertforge::testing::TinyModel;

namespace {

TEST(MlmDemo, MasksLikeTheCollatorAndRepeatsWithTheSeed) {
  TinyModel tiny("demo");
  auto m = infer::open_model_dir(tiny.path(), "", c10::kCPU);
  std::string text = "the cat sat on the mat and the dog ran to a big red house in the city of paris .";
  infer::MlmDemoOptions o;
  o.mlm_probability = 0.5;
  auto a = infer::mlm_demo(m, text, o), b = infer::mlm_demo(m, text, o);
  EXPECT_EQ(a.input, b.input);
  EXPECT_EQ(a.output, b.output);
  EXPECT_EQ(a.tokens, 23);  // [CLS] 21 words [SEP]
  EXPECT_GT(a.masked, 0);
  EXPECT_LE(a.correct, a.masked);
  EXPECT_THAT(a.input, ::testing::StartsWith("[CLS] "));
  o.seed = 43;
  EXPECT_NE(infer::mlm_demo(m, text, o).input, a.input);
  o.shown = 5;  // only the first tokens are decoded
  std::string shown = infer::mlm_demo(m, text, o).input;
  EXPECT_LE(std::count(shown.begin(), shown.end(), ' '), 4) << shown;
}

}  // namespace
