#include "bertforge/model/pretrained.h"

#include <ATen/ops/equal.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>

#include "bertforge/model/safetensors.h"
#include "bertforge/util/error.h"
#include "common/shared_data.h"

namespace fs = std::filesystem;
using bertforge::Error;
using namespace bertforge::model;

namespace {

struct PretrainedTest : ::testing::Test {
  fs::path dir = fs::temp_directory_path() / ("bf_pre_" + std::to_string(::getpid()));
  BertForPreTraining model{nullptr};
  void SetUp() override {
    BertConfig c = BertConfig::preset("tiny");
    c.vocab_size = 120;
    c.max_position_embeddings = 16;
    model = BertForPreTraining(c);
    save_pretrained(*model, dir.string());
  }
  void TearDown() override { fs::remove_all(dir); }

  // Rewrites model.safetensors with `key` replaced by `value`.
  void replace(const std::string& key, const at::Tensor& value) {
    auto path = (dir / "model.safetensors").string();
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    {
      SafetensorsFile f(path);
      for (const auto& e : f.entries()) tensors.emplace_back(e.name, e.name == key ? value : f.tensor(e.name).clone());
    }
    save_safetensors(path, tensors);
  }
  std::string error_of() {
    try {
      from_pretrained(dir.string());
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
};

}  // namespace

TEST_F(PretrainedTest, SaveThenLoadGivesTheSameParameters) {
  auto loaded = from_pretrained(dir.string());
  EXPECT_TRUE(loaded.report.missing.empty());
  EXPECT_TRUE(loaded.report.unexpected.empty());
  auto ours = model->named_parameters();
  for (const auto& p : loaded.model->named_parameters()) EXPECT_TRUE(at::equal(p.value(), ours[p.key()])) << p.key();
  SafetensorsFile f((dir / "model.safetensors").string());
  EXPECT_EQ(f.entries().size(), ours.size());
  EXPECT_EQ(f.metadata().at("format"), "pt");
}

TEST_F(PretrainedTest, WrongShapeForAKeyNamesFileAndKey) {
  replace("bert.pooler.dense.bias", at::zeros({7}));
  auto what = error_of();
  EXPECT_NE(what.find("model.safetensors: tensor 'bert.pooler.dense.bias': shape [7] does not match the model's [128]"),
            std::string::npos)
      << what;
}

TEST_F(PretrainedTest, WrongDtypeForAKeyNamesFileAndKey) {
  replace("cls.predictions.bias", at::zeros({120}, at::kLong));
  auto what = error_of();
  EXPECT_NE(what.find("tensor 'cls.predictions.bias': dtype I64 where a floating-point weight is expected"),
            std::string::npos)
      << what;
}

TEST_F(PretrainedTest, HalfPrecisionWeightsAreConverted) {
  auto bias = at::full({128}, 0.5, at::kHalf);
  replace("bert.pooler.dense.bias", bias);
  auto loaded = from_pretrained(dir.string());
  EXPECT_TRUE(at::equal(loaded.model->bert->pooler->dense->bias, bias.to(at::kFloat)));
}

TEST_F(PretrainedTest, PickleCheckpointIsRefusedWithAHint) {
  fs::remove(dir / "model.safetensors");
  std::ofstream(dir / "pytorch_model.bin") << "PK";
  auto what = error_of();
  EXPECT_NE(what.find("only pytorch_model.bin found; bertforge reads safetensors only"), std::string::npos) << what;
  EXPECT_NE(what.find("save_pretrained"), std::string::npos);
}

TEST_F(PretrainedTest, UnknownActivationInConfigIsAnError) {
  std::ofstream(dir / "config.json") << R"({"hidden_act": "gelu_magic"})";
  EXPECT_NE(error_of().find("config.json: hidden_act: unknown activation 'gelu_magic'"), std::string::npos);
}

TEST(Pretrained, SharedTinyBertLoadsWithHeadsInitialised) {
  SHARED_DATA(folder, "tiny-bert");
  auto p = from_pretrained(folder);
  EXPECT_EQ(p.model->config.hidden_size, 32);
  std::vector<std::string> expected{"bert.pooler.dense.weight",
                                    "bert.pooler.dense.bias",
                                    "cls.predictions.bias",
                                    "cls.predictions.transform.dense.weight",
                                    "cls.predictions.transform.dense.bias",
                                    "cls.predictions.transform.LayerNorm.weight",
                                    "cls.predictions.transform.LayerNorm.bias",
                                    "cls.seq_relationship.weight",
                                    "cls.seq_relationship.bias"};
  std::sort(expected.begin(), expected.end());
  auto missing = p.report.missing;
  std::sort(missing.begin(), missing.end());
  EXPECT_EQ(missing, expected);
  EXPECT_TRUE(p.report.unexpected.empty());
}

TEST_F(PretrainedTest, MissingWeightsBeyondTheHeadsAreAnError) {
  // Keep only the heads and the embeddings: the encoder is missing, as in a checkpoint of another model.
  auto path = (dir / "model.safetensors").string();
  std::vector<std::pair<std::string, at::Tensor>> kept;
  {
    SafetensorsFile f(path);
    for (const auto& e : f.entries())
      if (e.name.find(".encoder.") == std::string::npos) kept.emplace_back(e.name, f.tensor(e.name).clone());
  }
  save_safetensors(path, kept);
  auto what = error_of();
  EXPECT_NE(what.find("model.safetensors: lacks 32 of the model's"), std::string::npos) << what;
  EXPECT_NE(what.find("not a BERT checkpoint of this config.json"), std::string::npos) << what;
}

TEST_F(PretrainedTest, NonFiniteWeightsLoadWithAWarning) {
  at::Tensor bad = model->named_parameters()["bert.pooler.dense.bias"].detach().clone();
  bad[3] = std::numeric_limits<float>::quiet_NaN();
  replace("bert.pooler.dense.bias", bad);
  ::testing::internal::CaptureStderr();
  auto loaded = from_pretrained(dir.string());
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("warning: " + dir.string() + ": 1 weight tensors hold NaN or Inf (bert.pooler.dense.bias)"),
            std::string::npos) << err;
  EXPECT_EQ(err.find('\n'), err.size() - 1) << "one line: " << err;
  EXPECT_TRUE(loaded.report.missing.empty());
}
