#include "bertforge/infer/model_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "bertforge/util/error.h"
#include "infer/tiny_model.h"

using bertforge::Error;
using bertforge::infer::open_model_dir;
using bertforge::testing::TinyModel;
using ::testing::HasSubstr;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ModelDir, OpensModelAndTokenizerInEvalMode) {
  TinyModel t("open");
  auto m = open_model_dir(t.path(), "", c10::kCPU);
  EXPECT_FALSE(m.model->is_training());
  EXPECT_EQ(m.tokenizer.vocab_size(), m.model->config.vocab_size);
  EXPECT_EQ(m.tokenizer.id_to_token(m.tokenizer.mask_id()), "[MASK]");
}

TEST(ModelDir, MissingVocabularyIsOneLineNamingTheFolder) {
  TinyModel t("novocab", /*with_tokenizer=*/false);
  std::string e = error_of([&] { open_model_dir(t.path(), "", c10::kCPU); });
  EXPECT_THAT(e, HasSubstr(t.path() + ": no vocabulary"));
  EXPECT_THAT(e, HasSubstr("--tokenizer"));
  EXPECT_EQ(e.find('\n'), std::string::npos);
  e = error_of([&] { open_model_dir(t.path(), t.path() + "/nothing.txt", c10::kCPU); });
  EXPECT_THAT(e, HasSubstr("nothing.txt: no such tokenizer"));
}

TEST(ModelDir, VocabularyAndModelOfDifferentSizesNameBothFiles) {
  TinyModel t("mismatch", true, /*vocab_size=*/50);
  std::string e = error_of([&] { open_model_dir(t.path(), "", c10::kCPU); });
  EXPECT_THAT(e, HasSubstr("the vocabulary has 36 tokens"));
  EXPECT_THAT(e, HasSubstr("config.json has vocab_size 50"));
}

}  // namespace
