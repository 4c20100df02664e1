#include "bertforge/train/training_args.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bertforge/util/error.h"

using bertforge::train::TrainingArguments;

TEST(TrainingArguments, HfDefaults) {
  TrainingArguments a;
  EXPECT_EQ(a.per_device_train_batch_size, 8);
  EXPECT_EQ(a.learning_rate, 5e-5);
  EXPECT_EQ(a.num_train_epochs, 3.0);
  EXPECT_EQ(a.lr_scheduler_type, "linear");
  EXPECT_EQ(a.save_steps, 500);
  EXPECT_EQ(a.seed, 42);
}

TEST(TrainingArguments, DashesAndUnderscoresAndTypes) {
  TrainingArguments a;
  a.set("learning-rate", "1e-4");
  a.set("per_device_train_batch_size", "16");
  a.set("bf16", "true");
  a.set("evaluation_strategy", "epoch");
  EXPECT_EQ(a.learning_rate, 1e-4);
  EXPECT_EQ(a.per_device_train_batch_size, 16);
  EXPECT_TRUE(a.bf16);
  EXPECT_EQ(a.eval_strategy, "epoch");
  EXPECT_THROW(a.set("per-device-train-batch-size", "many"), bertforge::Error);
  EXPECT_THROW(a.set("bf16", "maybe"), bertforge::Error);
}

TEST(TrainingArguments, UnknownOptionNamesIt) {
  TrainingArguments a;
  try {
    a.set("learning_rat", "1");
    FAIL();
  } catch (const bertforge::Error& e) {
    EXPECT_NE(std::string(e.what()).find("learning_rat"), std::string::npos);
  }
}

TEST(TrainingArguments, JsonFileRoundTripAndErrors) {
  auto path = std::filesystem::temp_directory_path() / "bf_args_test.json";
  TrainingArguments a;
  a.output_dir = "out";
  a.optim = "lamb";
  a.warmup_steps = 0.1;
  { std::ofstream(path) << a.to_json().dump(); }
  TrainingArguments b = TrainingArguments::from_json_file(path.string());
  EXPECT_EQ(b.to_json(), a.to_json());

  { std::ofstream(path) << R"({"output_dir": "x", "learning_rate": "fast"})"; }
  EXPECT_THROW(TrainingArguments::from_json_file(path.string()), bertforge::Error);
  { std::ofstream(path) << R"({"output_dir": "x", "no_such_key": 1})"; }
  try {
    TrainingArguments::from_json_file(path.string());
    FAIL();
  } catch (const bertforge::Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(path.string()), std::string::npos);
    EXPECT_NE(what.find("no_such_key"), std::string::npos);
  }
  std::filesystem::remove(path);
}

TEST(TrainingArguments, ValidateChoicesAndDerived) {
  TrainingArguments a;
  a.output_dir = "out";
  a.validate();
  a.lr_scheduler_type = "exponential";
  EXPECT_THROW(a.validate(), bertforge::Error);
  a.lr_scheduler_type = "cosine";
  a.warmup_steps = 0.1;
  EXPECT_EQ(a.warmup_for(95), 10);  // ceil, as HF
  a.warmup_ratio = 0.2;
  EXPECT_EQ(a.warmup_for(95), 19);
  EXPECT_EQ(a.best_metric_key(), "eval_loss");
  EXPECT_FALSE(a.best_is_greater());
  a.metric_for_best_model = "mlm_accuracy";
  EXPECT_TRUE(a.best_is_greater());
  EXPECT_EQ(bertforge::train::interval_steps(0.25, 10), 3);
}
