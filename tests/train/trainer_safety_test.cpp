// What the Trainer does with bad news: non-finite steps (nan_policy stop, skip, rollback), a second run in the
// same output_dir, --overwrite_output_dir with an old run in place, checkpoints whose fields or bytes are damaged.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "bertforge/model/pretrained.h"
#include "bertforge/train/checkpoint.h"
#include "bertforge/train/pretrain.h"
#include "bertforge/train/trainer.h"
#include "bertforge/util/checksum.h"
#include "bertforge/util/error.h"
#include "bertforge/util/folder_lock.h"
#include "bertforge/util/json_file.h"
#include "train/tiny_data.h"

namespace fs = std::filesystem;
using namespace bertforge;
using namespace bertforge::train;

namespace {

struct TinyRun {
  fs::path root;
  PretrainSpec spec;
};

// 40 sequences, batch 4: 10 steps per epoch; a checkpoint every 3 steps.
TinyRun make_run(const std::string& name, std::int64_t steps = 8) {
  at::set_num_threads(1);
  TinyRun r{fs::temp_directory_path() / ("bf_safety_" + name), {}};
  fs::remove_all(r.root);
  fs::create_directories(r.root);
  r.spec.model = bertforge::testing::write_tiny_config(r.root / "config.json");
  r.spec.train_data = bertforge::testing::write_tiny_data(r.root / "data", 40);
  r.spec.quiet = true;
  r.spec.device = "cpu";
  r.spec.args.output_dir = (r.root / "out").string();
  r.spec.args.per_device_train_batch_size = 4;
  r.spec.args.max_steps = steps;
  r.spec.args.learning_rate = 1e-3;
  r.spec.args.logging_steps = 1;
  r.spec.args.save_steps = 3;
  return r;
}

// Makes the loss of these global steps NaN, once each, for the scope.
struct FaultSteps {
  explicit FaultSteps(const char* steps) { setenv("BERTFORGE_FAULT_NONFINITE_STEPS", steps, 1); }
  ~FaultSteps() { unsetenv("BERTFORGE_FAULT_NONFINITE_STEPS"); }
};

std::string error_of(const PretrainSpec& spec) {
  try {
    run_pretraining(spec);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

nlohmann::json history(const std::string& folder) { return TrainerState::load(folder + "/trainer_state.json").log_history; }

bool all_finite(const std::string& safetensors_folder) {
  auto m = model::from_pretrained(safetensors_folder).model;
  for (const auto& p : m->parameters())
    if (!at::isfinite(p).all().item<bool>()) return false;
  return true;
}

}  // namespace

TEST(NanPolicy, StopNamesTheStepAndSavesNothingNonFinite) {
  TinyRun r = make_run("stop");
  FaultSteps fault("5");
  const std::string e = error_of(r.spec);
  EXPECT_EQ(e.rfind("step 5: the loss is nan and the gradient norm is nan (nan_policy stop: nothing saved after "
                    "checkpoint-3;", 0), 0u) << e;
  EXPECT_EQ(list_checkpoints(r.spec.args.output_dir).size(), 1u);  // checkpoint-3 only: step 6 was never reached
  EXPECT_TRUE(all_finite(r.spec.args.output_dir + "/checkpoint-3"));
  EXPECT_FALSE(fs::exists(r.spec.args.output_dir + "/model.safetensors"));
  EXPECT_FALSE(fs::exists(r.spec.args.output_dir + "/bertforge.lock"));  // released on the error
}

TEST(NanPolicy, SkipLeavesTheWeightsAndCountsInARowUpToThePatience) {
  TinyRun r = make_run("skip");
  r.spec.args.nan_policy = "skip";
  r.spec.args.logging_nan_inf_filter = false;  // the skipped steps' losses are logged as they are
  {
    FaultSteps fault("2,5,6");
    ASSERT_EQ(run_pretraining(r.spec), 0);
  }
  const auto log = history(r.spec.args.output_dir);
  std::vector<double> losses;
  for (const auto& e : log)
    if (e.contains("loss")) losses.push_back(e["loss"].get<double>());
  ASSERT_EQ(losses.size(), 8u);
  EXPECT_TRUE(std::isnan(losses[1]) && std::isnan(losses[4]) && std::isnan(losses[5]));  // nothing else to log
  nlohmann::json last_step;
  for (const auto& e : log)
    if (e.contains("loss")) last_step = e;
  EXPECT_EQ(last_step.value("skipped_steps", 0), 3);
  EXPECT_TRUE(all_finite(r.spec.args.output_dir));

  TinyRun again = make_run("skip_patience");
  again.spec.args.nan_policy = "skip";
  again.spec.args.nan_patience = 2;
  FaultSteps fault("4,5");
  const std::string e = error_of(again.spec);
  EXPECT_NE(e.find("step 5: the loss is nan"), std::string::npos) << e;
  EXPECT_NE(e.find("nan_policy skip: 2 steps in a row"), std::string::npos) << e;
}

TEST(NanPolicy, SkippedStepsMatchARunWithoutThemOnTheSameData) {
  // A skipped step changes no weight: until it, the two runs are the same; the skipped step consumed its batch.
  TinyRun clean = make_run("skip_clean", 4);
  ASSERT_EQ(run_pretraining(clean.spec), 0);
  TinyRun skipped = make_run("skip_one", 4);
  skipped.spec.args.nan_policy = "skip";
  FaultSteps fault("4");
  ASSERT_EQ(run_pretraining(skipped.spec), 0);
  auto a = model::from_pretrained(clean.spec.args.output_dir + "/checkpoint-3").model;
  auto b = model::from_pretrained(skipped.spec.args.output_dir).model;  // after step 4, skipped
  auto pa = a->named_parameters(), pb = b->named_parameters();
  for (const auto& p : pa) EXPECT_TRUE(at::equal(p.value(), pb[p.key()])) << p.key();
}

// HF's logging_nan_inf_filter: a non-finite step adds the window's sum / (1 + its steps) to the window, so the
// logged mean stays finite. Window [3, 4] with step 4 skipped logs (L3 + L3 / 2) / 2, for the loss and each term.
TEST(NanPolicy, TheLogFilterReplacesANonFiniteStepAsHfDoes) {
  auto logged = [](const std::string& name, std::int64_t every) {
    TinyRun r = make_run(name, 6);
    r.spec.args.nan_policy = "skip";
    r.spec.args.logging_steps = static_cast<double>(every);
    FaultSteps fault("4");
    EXPECT_EQ(run_pretraining(r.spec), 0);
    std::map<std::int64_t, nlohmann::json> by_step;
    for (const auto& e : history(r.spec.args.output_dir))
      if (e.contains("loss")) by_step[e["step"].get<std::int64_t>()] = e;
    return by_step;
  };
  auto each = logged("filter_each", 1), pairs = logged("filter_pairs", 2);
  for (const char* key : {"loss", "mlm_loss", "nsp_loss"}) {
    const double l1 = each[1][key], l2 = each[2][key], l3 = each[3][key], l5 = each[5][key], l6 = each[6][key];
    EXPECT_EQ(each[4][key].get<double>(), 0.0) << key;  // a window of the bad step alone: 0 / 1, as HF logs it
    EXPECT_DOUBLE_EQ(pairs[2][key].get<double>(), (l1 + l2) / 2) << key;
    EXPECT_DOUBLE_EQ(pairs[4][key].get<double>(), (l3 + l3 / 2) / 2) << key;
    EXPECT_DOUBLE_EQ(pairs[6][key].get<double>(), (l5 + l6) / 2) << key;
  }
}

// After a rollback the log window starts afresh: the next entry holds only steps trained after it, so its loss
// is again the sum of its two terms (the terms kept sums from before the rollback once).
TEST(NanPolicy, RollbackStartsTheLogWindowAfresh) {
  TinyRun r = make_run("rollback_window", 8);
  r.spec.args.nan_policy = "rollback";
  r.spec.args.logging_steps = 2;
  {
    FaultSteps fault("6");  // step 5 is in the window when step 6 rolls back to checkpoint-3
    ASSERT_EQ(run_pretraining(r.spec), 0);
  }
  std::vector<std::int64_t> steps;
  for (const auto& e : history(r.spec.args.output_dir)) {
    if (!e.contains("loss")) continue;
    steps.push_back(e["step"]);
    EXPECT_NEAR(e["loss"].get<double>(), e["mlm_loss"].get<double>() + e["nsp_loss"].get<double>(),
                1e-6 * e["loss"].get<double>()) << e.dump();
  }
  EXPECT_EQ(steps, (std::vector<std::int64_t>{2, 4, 6, 8}));  // 4 and 6 again after the rollback, once each
}

TEST(NanPolicy, RollbackRestoresTheLastCheckpointWithHalfTheLearningRate) {
  TinyRun r = make_run("rollback");
  r.spec.args.nan_policy = "rollback";
  {
    FaultSteps fault("5");
    ASSERT_EQ(run_pretraining(r.spec), 0);
  }
  const auto log = history(r.spec.args.output_dir);
  bool rolled = false;
  for (const auto& e : log)
    if (e.contains("nonfinite_rollback_from")) {
      rolled = true;
      EXPECT_EQ(e["step"], 3);
      EXPECT_EQ(e["nonfinite_rollback_from"], 5);
      EXPECT_EQ(e["learning_rate_scale"], 0.5);
    }
  EXPECT_TRUE(rolled);
  for (const auto& e : log)
    if (e.contains("loss")) EXPECT_TRUE(std::isfinite(e["loss"].get<double>())) << e.dump();
  EXPECT_EQ(load_resume_point(r.spec.args.output_dir + "/checkpoint-6/bertforge_state.json").lr_scale, 0.5);
  EXPECT_TRUE(all_finite(r.spec.args.output_dir));

  TinyRun none = make_run("rollback_none");
  none.spec.args.nan_policy = "rollback";
  FaultSteps fault("2");
  EXPECT_NE(error_of(none.spec).find("no checkpoint to roll back to yet"), std::string::npos);
}

TEST(OutputDir, SecondRunIsRefusedWhileTheFirstHoldsIt) {
  TinyRun r = make_run("locked", 2);
  fs::create_directories(r.spec.args.output_dir);
  FolderLock first(r.spec.args.output_dir);
  const std::string e = error_of(r.spec);
  EXPECT_EQ(e.rfind(r.spec.args.output_dir + ": in use by pid ", 0), 0u) << e;
  EXPECT_FALSE(last_checkpoint(r.spec.args.output_dir));
}

TEST(OutputDir, OverwriteSetsThePreviousRunAsideOutOfReachOfResume) {
  TinyRun r = make_run("overwrite", 6);
  ASSERT_EQ(run_pretraining(r.spec), 0);
  r.spec.args.overwrite_output_dir = true;
  r.spec.args.max_steps = 2;
  r.spec.args.save_steps = 1;
  ASSERT_EQ(run_pretraining(r.spec), 0);
  std::vector<std::string> names;
  for (const auto& c : list_checkpoints(r.spec.args.output_dir)) names.push_back(fs::path(c).filename().string());
  EXPECT_EQ(names, (std::vector<std::string>{"checkpoint-1", "checkpoint-2"}));
  fs::path aside;
  for (const auto& e : fs::directory_iterator(r.spec.args.output_dir))
    if (e.path().filename().string().rfind("overwritten-", 0) == 0) aside = e.path();
  ASSERT_FALSE(aside.empty());
  EXPECT_TRUE(fs::exists(aside / "checkpoint-6") && fs::exists(aside / "metrics.jsonl") &&
              fs::exists(aside / "model.safetensors"));
  std::ifstream metrics(r.spec.args.output_dir + "/metrics.jsonl");
  int lines = 0;
  for (std::string line; std::getline(metrics, line);) ++lines;
  EXPECT_EQ(lines, 3);  // this run's two steps and its summary, nothing of the old run
}

TEST(Resume, DamagedFieldsAreOneLineErrorsNamingFileAndField) {
  TinyRun r = make_run("fields", 6);
  ASSERT_EQ(run_pretraining(r.spec), 0);
  const std::string ckpt = r.spec.args.output_dir + "/checkpoint-6";
  const std::string state = ckpt + "/trainer_state.json", resume = ckpt + "/bertforge_state.json";
  auto edit = [](const std::string& path, const std::function<void(nlohmann::json&)>& change) {
    nlohmann::json j = read_json_file(path, "test");
    change(j);
    std::ofstream(path) << dump_json(j, 2);
  };
  auto bytes_of = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string original_resume = bytes_of(resume);
  struct Case {
    std::string file;
    std::function<void(nlohmann::json&)> change;
    std::string says;
  };
  std::vector<Case> cases{
      {resume, [](nlohmann::json& j) { j["loader"]["batch"] = -3; },
       resume + ": loader.batch: expected an integer in [0, 18446744073709551615], found -3"},
      {resume, [](nlohmann::json& j) { j["phase_start_step"] = -1; }, resume + ": phase_start_step: expected an integer"},
      {resume, [](nlohmann::json& j) { j["loader"]["batch"] = 99; }, resume + ": loader.batch is 99, beyond"},
      {resume, [](nlohmann::json& j) { j.erase("phase"); }, resume + ": phase: expected an integer in [0, 2147483647], found nothing"},
  };
  for (const auto& c : cases) {
    edit(c.file, c.change);
    PretrainSpec s = r.spec;
    s.args.resume_from_checkpoint = ckpt;
    const std::string e = error_of(s);
    EXPECT_NE(e.find(c.says), std::string::npos) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos);
    std::ofstream(resume, std::ios::binary) << original_resume;
  }
  // trainer_state.json is covered by the checksums; with them rewritten, its own fields are still checked.
  for (auto [step, says] : {std::pair{-4, "global_step is -4, must be >= 0"}, {5, "global_step is 5 in a folder named checkpoint-6"}}) {
    edit(state, [&, step = step](nlohmann::json& j) { j["global_step"] = step; });
    edit(resume, [&](nlohmann::json& j) {
      j["files"]["trainer_state.json"] = {{"bytes", fs::file_size(state)}, {"crc32", crc32_file(state)}};
    });
    PretrainSpec s = r.spec;
    s.args.resume_from_checkpoint = ckpt;
    const std::string e = error_of(s);
    EXPECT_NE(e.find(state + ": " + says), std::string::npos) << e;
  }
}

TEST(Resume, LatestFallsBackToTheNewestCheckpointThatVerifies) {
  TinyRun r = make_run("verify", 6);
  ASSERT_EQ(run_pretraining(r.spec), 0);
  const std::string weights = r.spec.args.output_dir + "/checkpoint-6/model.safetensors";
  {
    std::fstream f(weights, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-100, std::ios::end);  // inside the last tensor's data
    char c = 0;
    f.read(&c, 1);
    f.seekp(-100, std::ios::end);
    c ^= 0x01;
    f.write(&c, 1);
  }
  try {
    verify_checkpoint(r.spec.args.output_dir + "/checkpoint-6");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), weights + ": checksum differs from bertforge_state.json (the file is corrupt)");
  }
  PretrainSpec s = r.spec;
  s.args.resume_from_checkpoint = "latest";
  s.args.max_steps = 7;
  ASSERT_EQ(run_pretraining(s), 0);  // resumed from checkpoint-3, trained to 7
  const auto log = history(r.spec.args.output_dir);
  EXPECT_EQ(log.back()["step"], 7);
  EXPECT_EQ(TrainerState::load(r.spec.args.output_dir + "/trainer_state.json").global_step, 7);
}
