#include "bertforge/train/training_args.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bertforge/util/error.h"
#include "bertforge/util/messages.h"

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
  a.metric_for_best_model = "perplexity";
  EXPECT_TRUE(a.best_is_greater());  // inferred from the name, as HF does when the flag is absent
  a.set("greater_is_better", "false");
  EXPECT_FALSE(a.best_is_greater());
  EXPECT_EQ(a.to_json()["greater_is_better"], false);
  EXPECT_TRUE(TrainingArguments().to_json()["greater_is_better"].is_null());  // HF's None
  EXPECT_EQ(bertforge::train::interval_steps(0.25, 10), 3);
}

TEST(TrainingArguments, ValuesOutsideTheirRangeAreUsageErrorsNamingTheRange) {
  auto error_of = [](const std::string& key, const std::string& value) -> std::string {
    TrainingArguments a;
    a.output_dir = "out";
    a.set(key, value);
    try {
      a.validate();
    } catch (const bertforge::UsageError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(error_of("warmup_ratio", "2"), "--warmup_ratio: 2 is out of range (must be in [0, 1])");
  EXPECT_EQ(error_of("warmup_ratio", "1"), "");
  EXPECT_EQ(error_of("adam_beta1", "1"), "--adam_beta1: 1 is out of range (must be in [0, 1))");
  EXPECT_EQ(error_of("adam_beta2", "-0.1"), "--adam_beta2: -0.1 is out of range (must be in [0, 1))");
  EXPECT_EQ(error_of("adam_beta2", "0"), "");
  EXPECT_EQ(error_of("save_steps", "0"), "--save_steps: 0 is out of range (must be > 0)");
  EXPECT_EQ(error_of("logging_steps", "0"), "--logging_steps: 0 is out of range (must be > 0)");
  EXPECT_EQ(error_of("learning_rate", "nan"), "--learning_rate: nan is not a finite number");
  EXPECT_EQ(error_of("learning_rate", "inf"), "--learning_rate: inf is not a finite number");
  EXPECT_EQ(error_of("weight_decay", "-1"), "--weight_decay: -1 is out of range (must be >= 0)");
  // save_steps only counts when saving by steps, as in HF
  TrainingArguments a;
  a.output_dir = "out";
  a.save_strategy = "no";
  a.save_steps = 0;
  EXPECT_NO_THROW(a.validate());
}

TEST(TrainingArguments, NonFiniteNumbersAreRefusedAsNanIs) {
  // Every float option, also those without a range and those whose range is checked only in some modes.
  for (const char* key : {"learning_rate", "weight_decay", "max_grad_norm", "adam_epsilon", "save_steps"})
    for (const char* value : {"nan", "inf", "-inf"}) {
      TrainingArguments a;
      a.output_dir = "out";
      a.save_strategy = "no";
      a.set(key, value);
      try {
        a.validate();
        ADD_FAILURE() << key << "=" << value << " accepted";
      } catch (const bertforge::UsageError& e) {
        EXPECT_EQ(std::string(e.what()), std::string("--") + key + ": " + value + " is not a finite number");
      }
    }
}

TEST(TrainingArguments, HelpTableGivesGroupsTypesDefaultsAndChoices) {
  using bertforge::train::training_arg_help;
  auto optim = training_arg_help("optim");
  EXPECT_EQ(optim.group, "Optimizer");
  EXPECT_EQ(optim.type, "TEXT");
  EXPECT_EQ(optim.default_value, TrainingArguments().optim);
  EXPECT_NE(std::find(optim.choices.begin(), optim.choices.end(), optim.default_value), optim.choices.end());
  EXPECT_NE(std::find(optim.choices.begin(), optim.choices.end(), "lamb"), optim.choices.end());
  auto lr = training_arg_help("learning-rate");
  EXPECT_EQ(lr.group, "Learning Rate & Scheduler");
  EXPECT_EQ(lr.type, "FLOAT");
  EXPECT_EQ(std::stod(lr.default_value), 5e-5);
  EXPECT_EQ(training_arg_help("bf16").type, "BOOL");
  EXPECT_EQ(training_arg_help("bf16").default_value, "false");
  EXPECT_EQ(training_arg_help("max_steps").default_value, "-1");
  EXPECT_EQ(training_arg_help("greater_is_better").default_value, "");  // HF's None
  EXPECT_EQ(lr.range, "> 0");  // the range validate() checks
  EXPECT_EQ(training_arg_help("adam_beta1").range, "in [0, 1)");
  EXPECT_EQ(training_arg_help("seed").range, "");
  EXPECT_EQ(training_arg_help("whole_word_mask").group, training_arg_help("mlm_probability").group);
  for (const auto& s : bertforge::train::training_arg_specs()) EXPECT_FALSE(training_arg_help(s.name).type.empty());
  EXPECT_EQ(bertforge::train::training_arg_specs().size(), TrainingArguments().to_json().size());  // each key once
}

TEST(TrainingArguments, MaskingOptionsAreCheckedAndSaved) {
  TrainingArguments a;
  a.output_dir = "out";
  a.set("mlm_probability", "0.3");
  a.set("whole_word_mask", "");  // the option alone
  a.set("pad_to_multiple_of", "8");
  a.validate();
  auto j = a.to_json();
  EXPECT_EQ(j["mlm_probability"], 0.3);
  EXPECT_EQ(j["whole_word_mask"], true);
  EXPECT_EQ(j["pad_to_multiple_of"], 8);
  for (const auto& key : TrainingArguments::masking_keys()) EXPECT_TRUE(j.contains(key)) << key;
  a.set("random_replace_prob", "0.3");
  EXPECT_THROW(a.validate(), bertforge::Error);  // 0.8 + 0.3 > 1
  a.set("random_replace_prob", "0.1");
  a.set("mlm_probability", "1.5");
  EXPECT_THROW(a.validate(), bertforge::UsageError);
}
