#include "bertforge/infer/hf_folder.h"

#include <ATen/ops/equal.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "bertforge/infer/info.h"
#include "bertforge/train/trainer_state.h"
#include "bertforge/util/error.h"
#include "infer/tiny_model.h"

using namespace bertforge;
using bertforge::testing::TinyModel;
namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace {

TEST(HfFolder, WritesEveryFileAndReadsBackTheSameModelAndVocabulary) {
  TinyModel tiny("export");
  auto m = infer::open_model_dir(tiny.path(), "", c10::kCPU);
  std::string out = (tiny.dir / "hf").string();
  infer::write_hf_folder(m, out);
  for (const char* f : {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "tokenizer.json",
                        "special_tokens_map.json"})
    EXPECT_TRUE(fs::exists(fs::path(out) / f)) << f;
  auto back = infer::open_model_dir(out, "", c10::kCPU);
  EXPECT_EQ(back.tokenizer.vocab().tokens(), m.tokenizer.vocab().tokens());
  EXPECT_EQ(back.tokenizer.config().normalizer.lowercase, true);
  auto a = m.model->named_parameters(), b = back.model->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (const auto& p : a) EXPECT_TRUE(at::equal(p.value(), b[p.key()])) << p.key();
}

TEST(HfFolder, NeverOverwritesAModel) {
  TinyModel tiny("noclobber");
  auto m = infer::open_model_dir(tiny.path(), "", c10::kCPU);
  try {
    infer::write_hf_folder(m, tiny.path());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(tiny.path() + ": already holds config.json"));
  }
}

TEST(HfFolder, NeverWritesIntoAFolderThatHoldsAnything) {
  TinyModel tiny("nowrite");
  auto m = infer::open_model_dir(tiny.path(), "", c10::kCPU);
  fs::path out = tiny.dir / "mine";
  fs::create_directories(out);
  { std::ofstream(out / "vocab.txt") << "my own vocabulary\n"; }
  try {
    infer::write_hf_folder(m, out.string());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(out.string() + ": already holds vocab.txt; choose a new or empty folder"));
  }
  std::ifstream in(out / "vocab.txt");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "my own vocabulary");
  // An empty folder is taken, and nothing is left beside it.
  fs::path empty = tiny.dir / "empty";
  fs::create_directories(empty);
  infer::write_hf_folder(m, empty.string());
  EXPECT_TRUE(fs::exists(empty / "model.safetensors"));
  for (const auto& e : fs::directory_iterator(tiny.dir))
    EXPECT_EQ(e.path().filename().string().find(".partial"), std::string::npos) << e.path();
}

TEST(Info, CountsParametersOnceAndReadsTheTrainerState) {
  TinyModel tiny("info");
  train::TrainerState s;
  s.global_step = 12;
  s.log_history = {{{"loss", 3.5}, {"step", 10}}, {{"eval_loss", 3.25}, {"eval_mlm_accuracy", 0.5}, {"step", 12}}};
  s.save((tiny.dir / "trainer_state.json").string());
  nlohmann::json i = infer::model_info(tiny.path());
  auto m = model::from_pretrained(tiny.path()).model;
  std::int64_t n = 0;
  for (const auto& p : m->parameters()) n += p.numel();
  EXPECT_EQ(i["parameters"].get<std::int64_t>(), n);
  EXPECT_EQ(i["config"]["vocab_size"], 36);
  EXPECT_EQ(i["tokenizer"]["vocab_size"], 36);
  EXPECT_EQ(i["step"], 12);
  EXPECT_EQ(i["metrics"]["loss"], 3.5);
  EXPECT_EQ(i["metrics"]["eval_mlm_accuracy"], 0.5);
}

}  // namespace
