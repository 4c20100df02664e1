// The training loop end to end on a tiny model: exact resume (mid-epoch and at an epoch boundary), checkpoint
// contents and rotation, consistency checks before any step.
#include "bertforge/train/trainer.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "bertforge/train/checkpoint.h"
#include "bertforge/train/pretrain.h"
#include "bertforge/util/error.h"
#include "bertforge/util/progress.h"
#include "train/tiny_data.h"

namespace fs = std::filesystem;
using namespace bertforge;
using namespace bertforge::train;

namespace {

fs::path fresh_dir(const std::string& name) {
  at::set_num_threads(1);  // an OpenMP team on a loaded 2-core machine waits at every barrier: 30x slower
  auto dir = fs::temp_directory_path() / ("bf_trainer_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

struct Fixture {
  fs::path root;
  std::string data, config;
};

Fixture make_fixture(const std::string& name, int sequences = 40) {
  Fixture f{fresh_dir(name), "", ""};
  f.data = bertforge::testing::write_tiny_data(f.root / "data", sequences);
  f.config = bertforge::testing::write_tiny_config(f.root / "config.json");
  return f;
}

PretrainSpec spec_for(const Fixture& f, const std::string& out) {
  PretrainSpec s;
  s.model = f.config;
  s.train_data = f.data;
  s.eval_data = f.data;
  s.quiet = true;
  s.device = "cpu";
  s.args.output_dir = (f.root / out).string();
  s.args.per_device_train_batch_size = 4;  // 40 sequences: 10 batches per epoch
  s.args.max_steps = 14;
  s.args.learning_rate = 1e-3;
  s.args.warmup_steps = 3;
  s.args.logging_steps = 1;
  s.args.save_steps = 5;
  s.args.eval_strategy = "steps";
  s.args.eval_steps = 7;
  return s;
}

std::vector<double> losses(const std::string& output_dir) {
  std::vector<double> out;
  for (const auto& e : TrainerState::load(output_dir + "/trainer_state.json").log_history)
    if (e.contains("loss")) out.push_back(e["loss"].get<double>());
  return out;
}

}  // namespace

TEST(Trainer, ResumeGivesBitwiseEqualLossesMidEpochAndAtEpochEnd) {
  Fixture f = make_fixture("resume");
  PretrainSpec straight = spec_for(f, "straight");
  ASSERT_EQ(run_pretraining(straight), 0);
  std::vector<double> want = losses(straight.args.output_dir);
  ASSERT_EQ(want.size(), 14u);
  EXPECT_TRUE(fs::exists(straight.args.output_dir + "/checkpoint-5"));
  EXPECT_TRUE(fs::exists(straight.args.output_dir + "/checkpoint-14"));
  EXPECT_TRUE(fs::exists(straight.args.output_dir + "/loss.png"));

  for (int from : {5, 10}) {  // epoch 0 batch 5 (mid-epoch); epoch 0 batch 10 (the epoch's end)
    PretrainSpec resumed = spec_for(f, "resumed" + std::to_string(from));
    fs::create_directories(resumed.args.output_dir);
    fs::copy(straight.args.output_dir + "/checkpoint-" + std::to_string(from),
             resumed.args.output_dir + "/checkpoint-" + std::to_string(from), fs::copy_options::recursive);
    resumed.args.resume_from_checkpoint = "latest";
    at::manual_seed(12345);  // the checkpoint's generator state must win over whatever the process had
    ASSERT_EQ(run_pretraining(resumed), 0);
    std::vector<double> got = losses(resumed.args.output_dir);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]) << "step " << i + 1 << " from " << from;
  }
}

// bf16 (activations in bf16, dropout from the fused kernels) resumes as exactly as fp32.
TEST(Trainer, Bf16ResumeGivesBitwiseEqualLosses) {
  Fixture f = make_fixture("resume_bf16");
  PretrainSpec straight = spec_for(f, "straight");
  straight.args.bf16 = true;
  straight.args.max_steps = 8;
  ASSERT_EQ(run_pretraining(straight), 0);
  std::vector<double> want = losses(straight.args.output_dir);
  ASSERT_EQ(want.size(), 8u);
  PretrainSpec resumed = spec_for(f, "resumed");
  resumed.args.bf16 = true;
  resumed.args.max_steps = 8;
  fs::create_directories(resumed.args.output_dir);
  fs::copy(straight.args.output_dir + "/checkpoint-5", resumed.args.output_dir + "/checkpoint-5",
           fs::copy_options::recursive);
  resumed.args.resume_from_checkpoint = "latest";
  at::manual_seed(12345);
  ASSERT_EQ(run_pretraining(resumed), 0);
  EXPECT_EQ(losses(resumed.args.output_dir), want);
}

TEST(Trainer, VocabularyMismatchFailsBeforeAnyStep) {
  Fixture f = make_fixture("vocab");
  PretrainSpec s = spec_for(f, "out");
  s.model = bertforge::testing::write_tiny_config(f.root / "config100.json", 100);
  try {
    run_pretraining(s);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a vocabulary of 64 tokens"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(last_checkpoint(s.args.output_dir));
}

TEST(Trainer, RefusesToStartOverCheckpointsUnlessAsked) {
  Fixture f = make_fixture("overwrite");
  PretrainSpec s = spec_for(f, "out");
  s.args.max_steps = 5;
  ASSERT_EQ(run_pretraining(s), 0);
  EXPECT_THROW(run_pretraining(s), Error);
  s.args.overwrite_output_dir = true;
  EXPECT_EQ(run_pretraining(s), 0);
}

TEST(Trainer, PhasesRunInTurnAndResumeInsideTheSecond) {
  Fixture f = make_fixture("phases");
  std::string data2 = bertforge::testing::write_tiny_data(f.root / "data2", 24, 64, 2);
  auto recipe_spec = [&](const std::string& out) {
    PretrainSpec s = spec_for(f, out);
    s.args.eval_strategy = "no";
    s.args.save_steps = 1;
    s.phases.push_back({f.data, "", {{"max_steps", 4}}});
    s.phases.push_back({data2, "", {{"max_steps", 3}, {"per_device_train_batch_size", 2}, {"learning_rate", 5e-4}}});
    return s;
  };
  PretrainSpec straight = recipe_spec("straight");
  ASSERT_EQ(run_pretraining(straight), 0);
  std::vector<double> want = losses(straight.args.output_dir);
  ASSERT_EQ(want.size(), 7u);  // 4 + 3 steps, one history across phases
  auto state = TrainerState::load(straight.args.output_dir + "/checkpoint-7/trainer_state.json");
  EXPECT_EQ(state.global_step, 7);
  EXPECT_EQ(load_resume_point(straight.args.output_dir + "/checkpoint-4/bertforge_state.json").phase, 0);
  ResumePoint p = load_resume_point(straight.args.output_dir + "/checkpoint-6/bertforge_state.json");
  EXPECT_EQ(p.phase, 1);
  EXPECT_EQ(p.phase_start_step, 4);

  PretrainSpec resumed = recipe_spec("resumed");
  fs::create_directories(resumed.args.output_dir);
  fs::copy(straight.args.output_dir + "/checkpoint-5", resumed.args.output_dir + "/checkpoint-5",
           fs::copy_options::recursive);
  resumed.args.resume_from_checkpoint = "latest";
  ASSERT_EQ(run_pretraining(resumed), 0);
  EXPECT_EQ(losses(resumed.args.output_dir), want);
}

// HF infers the direction from the metric's name only when greater_is_better is not given.
TEST(Trainer, BestModelHonoursGreaterIsBetterWhenGiven) {
  Fixture f = make_fixture("best");
  auto best_of = [&](const std::string& out, std::optional<bool> greater) {
    PretrainSpec s = spec_for(f, out);
    s.args.max_steps = 6;
    s.args.eval_steps = 1;
    s.args.save_steps = 1;
    s.args.load_best_model_at_end = true;
    s.args.metric_for_best_model = "perplexity";
    s.args.greater_is_better = greater;
    EXPECT_EQ(run_pretraining(s), 0);
    TrainerState st = TrainerState::load(s.args.output_dir + "/trainer_state.json");
    std::vector<std::pair<double, std::int64_t>> seen;  // (perplexity, step)
    for (const auto& e : st.log_history)
      if (e.contains("eval_perplexity")) seen.emplace_back(e["eval_perplexity"].get<double>(), e["step"].get<std::int64_t>());
    EXPECT_EQ(seen.size(), 6u);
    EXPECT_TRUE(st.best_metric && st.best_global_step);
    return std::tuple{st, std::min_element(seen.begin(), seen.end())->second,
                      std::max_element(seen.begin(), seen.end())->second};
  };
  auto [lower, lowest_step, _1] = best_of("lower", false);
  EXPECT_EQ(*lower.best_global_step, lowest_step);
  EXPECT_EQ(*lower.best_model_checkpoint, f.root.string() + "/lower/checkpoint-" + std::to_string(lowest_step));
  auto [higher, _2, highest_step] = best_of("higher", true);
  EXPECT_EQ(*higher.best_global_step, highest_step);
  EXPECT_NE(lowest_step, highest_step);  // the test tells the two directions apart
  auto [inferred, _3, inferred_step] = best_of("inferred", std::nullopt);  // "perplexity" does not end in loss
  EXPECT_EQ(*inferred.best_global_step, inferred_step);
}

TEST(Trainer, ResumeWithOtherMaskingIsAnErrorUnlessAllowed) {
  Fixture f = make_fixture("masking");
  PretrainSpec s = spec_for(f, "out");
  s.args.max_steps = 4;
  s.args.save_steps = 2;
  s.args.eval_strategy = "no";
  s.args.mlm_probability = 0.3;
  ASSERT_EQ(run_pretraining(s), 0);
  EXPECT_EQ(TrainingArguments::from_json_file(s.args.output_dir + "/checkpoint-2/training_args.json").mlm_probability, 0.3);
  fs::remove_all(s.args.output_dir + "/checkpoint-4");
  s.args.resume_from_checkpoint = "latest";
  s.args.mlm_probability = 0.15;
  try {
    run_pretraining(s);
    FAIL();
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("mlm_probability was 0.3"), std::string::npos) << what;
    EXPECT_NE(what.find("training_args.json"), std::string::npos) << what;
  }
  s.allow_masking_change = true;
  EXPECT_EQ(run_pretraining(s), 0);
  EXPECT_TRUE(fs::exists(s.args.output_dir + "/checkpoint-4"));
}

TEST(Trainer, WholeWordMaskingNeedsTheTokenizer) {
  Fixture f = make_fixture("wwm");
  PretrainSpec s = spec_for(f, "out");
  s.args.whole_word_mask = true;
  try {
    run_pretraining(s);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--whole_word_mask: needs the tokenizer the data was prepared with"),
              std::string::npos)
        << e.what();
  }
}
