#include "bertforge/model/config.h"

#include <gtest/gtest.h>

#include "bertforge/util/error.h"

using bertforge::Error;
using bertforge::model::BertConfig;

TEST(BertConfig, PresetsFollowGoogleSizes) {
  auto base = BertConfig::preset("base");
  EXPECT_EQ(base.num_hidden_layers, 12);
  EXPECT_EQ(base.hidden_size, 768);
  EXPECT_EQ(base.num_attention_heads, 12);
  EXPECT_EQ(base.intermediate_size, 3072);
  auto mini = BertConfig::preset("mini");
  EXPECT_EQ(mini.num_hidden_layers, 4);
  EXPECT_EQ(mini.hidden_size, 256);
  EXPECT_EQ(mini.num_attention_heads, 4);
  EXPECT_EQ(BertConfig::preset_names().size(), 6u);
  EXPECT_THROW(BertConfig::preset("huge"), Error);
}

TEST(BertConfig, RoundTripKeepsUnknownKeys) {
  auto c = BertConfig::parse(R"({"hidden_size": 64, "num_attention_heads": 4, "intermediate_size": 128,
      "num_hidden_layers": 1, "vocab_size": 99, "hidden_act": "gelu_new", "layer_norm_eps": 1e-5,
      "architectures": ["BertForMaskedLM"], "custom": {"nested": [1, 2.5, null]}, "pad_token_id": 3})",
                             "config.json");
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.hidden_act, "gelu_new");
  EXPECT_EQ(c.pad_token_id, 3);
  EXPECT_EQ(c.max_position_embeddings, 512);  // HF default when absent
  auto again = BertConfig::parse(c.to_json(), "again");
  EXPECT_EQ(again.to_json(), c.to_json());
  EXPECT_EQ(again.extra.at("custom"), R"({"nested":[1,2.5,null]})");
  EXPECT_EQ(again.extra.at("architectures"), R"(["BertForMaskedLM"])");
  EXPECT_DOUBLE_EQ(again.layer_norm_eps, 1e-5);
}

TEST(BertConfig, NullPadTokenMeansNoPaddingRow) {
  auto c = BertConfig::parse(R"({"pad_token_id": null})", "config.json");
  EXPECT_EQ(c.pad_token_id, -1);
  EXPECT_NE(c.to_json().find("\"pad_token_id\": null"), std::string::npos);
}

namespace {
std::string error_of(const std::string& json) {
  try {
    BertConfig::parse(json, "dir/config.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(BertConfig, UnknownActivationNamesFileAndField) {
  auto what = error_of(R"({"hidden_act": "gelu_magic"})");
  EXPECT_NE(what.find("dir/config.json: hidden_act: unknown activation 'gelu_magic'"), std::string::npos) << what;
  // The config fuzzer's case: a value holding a newline is shown escaped, so the error stays one line.
  what = error_of(R"({"hidden_act": "gel\n_new", "model_type": "x\ty"})");
  EXPECT_NE(what.find("model_type: 'x\\ty' is not BERT"), std::string::npos) << what;
  EXPECT_EQ(error_of(R"({"hidden_act": "gel\n_new"})").find('\n'), std::string::npos);
  EXPECT_NE(error_of(R"({"hidden_act": "gel\n_new"})").find("unknown activation 'gel\\n_new'"), std::string::npos);
}

TEST(BertConfig, BadValuesAreErrors) {
  EXPECT_NE(error_of(R"({"hidden_size": "768"})").find("hidden_size: unexpected JSON type string"), std::string::npos);
  EXPECT_NE(error_of(R"({"hidden_size": 100, "num_attention_heads": 12})").find("num_attention_heads"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"position_embedding_type": "relative_key"})").find("position_embedding_type"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"vocab_size": 0})").find("vocab_size: must be positive"), std::string::npos);
  EXPECT_NE(error_of("{not json").find("dir/config.json: invalid JSON"), std::string::npos);
  EXPECT_NE(error_of("[1]").find("expected a JSON object"), std::string::npos);
}

TEST(BertConfig, OtherModelTypesAreRefusedByName) {
  // A GPT-2 config.json has none of BERT's keys: without the check it would build a BERT of default sizes.
  auto what = error_of(R"({"model_type": "gpt2", "n_embd": 768, "n_layer": 12, "vocab_size": 50257})");
  EXPECT_NE(what.find("dir/config.json: model_type: 'gpt2' is not BERT"), std::string::npos) << what;
  EXPECT_EQ(error_of(R"({"model_type": "bert"})"), "");
}
