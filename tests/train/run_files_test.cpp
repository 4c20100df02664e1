// The small JSON files a run reads back (inputs of the recipe and resume_point fuzz targets): a recipe and a
// bertforge_state.json with parts of the wrong type or range are Errors naming the file and key.
#include <gtest/gtest.h>

#include <filesystem>

#include "bertforge/train/pretrain.h"
#include "bertforge/train/resume_point.h"
#include "bertforge/train/trainer_state.h"
#include "common/replay.h"

using namespace bertforge::testing;
using namespace bertforge::train;

TEST(RecipeFile, PartsOfTheWrongTypeNameTheFileAndPhase) {
  const std::string path = replay_dir("recipe") + "/recipe.json";
  auto refused = [&](const std::string& text, const std::string& part) {
    write_bytes(path, text);
    PretrainSpec spec;
    expect_error_containing([&] { load_recipe(path, spec); }, path + part);
  };
  refused(R"({"model":3,"phases":[{}]})", ": model: expected a preset name or a path, found 3");
  refused(R"({"phases":[{"max_steps":2},7]})", ": phases[1]: expected an object of training arguments, found 7");
  refused(R"({"phases":[{"train_data":["a"]}]})", ": phases[0]: train_data: expected a folder, found [\"a\"]");
  refused(R"({"phases":[{"max_steps":"2"}]})", ": phases[0]: option max_steps: wrong type string");
  refused(R"({"phases":[]})", ": the recipe lists no phase");
  refused("{", ":1: not valid JSON");
  // The recipe fuzzer's case: an option name holding a newline is shown escaped, on one line.
  refused(R"({"phases":[{"lea\nrning_rate":1}]})", ": phases[0]: unknown option 'lea\\nrning_rate'");
  write_bytes(path, R"({"model":"tiny","phases":[{"train_data":"a","max_steps":2},{"eval_data":"e"}]})");
  PretrainSpec spec;
  spec.train_data = "default";
  load_recipe(path, spec);
  ASSERT_EQ(spec.phases.size(), 2u);
  EXPECT_EQ(spec.model, "tiny");
  EXPECT_EQ(spec.phases[0].train_data, "a");
  EXPECT_EQ(spec.phases[1].train_data, "default");
  EXPECT_EQ(spec.phases[1].eval_data, "e");
  EXPECT_EQ(spec.phases[0].overrides, nlohmann::json({{"max_steps", 2}}));
}

// Found by the trainer_state fuzzer: a step count no integer holds (4.3e32) was cast unchecked (undefined
// behaviour; UBSan stopped there). Every field is checked against its type and range first.
TEST(TrainerStateFile, FieldsOfTheWrongTypeOrRangeNameTheFileAndKey) {
  const std::string path = replay_dir("trainer_state") + "/trainer_state.json";
  auto refused = [&](const std::string& text, const std::string& part) {
    write_bytes(path, text);
    expect_error_containing([&] { TrainerState::load(path); }, path + part);
  };
  refused("[]", ": expected a JSON object (trainer state), found array");
  refused(R"({"global_step":2})", ": epoch: missing");
  refused(R"({"epoch":0.5,"global_step":433333333333333333333333333333331.5})",
          ": global_step: unexpected value 4.333333333333333e+32");
  refused(R"({"epoch":0.5,"global_step":2,"save_steps":2.5})", ": save_steps: unexpected value 2.5");
  refused(R"({"epoch":0.5,"global_step":2,"best_global_step":1e300})", ": best_global_step: unexpected value 1e+300");
  refused(R"({"epoch":0.5,"global_step":2,"best_metric":"low"})", ": best_metric: unexpected value \"low\"");
  write_bytes(path, R"({"epoch":0.5,"global_step":2,"best_global_step":null,"max_steps":9})");
  TrainerState s = TrainerState::load(path);
  EXPECT_EQ(s.global_step, 2);
  EXPECT_EQ(s.max_steps, 9);
  EXPECT_FALSE(s.best_global_step);
}

TEST(ResumePointFile, FieldsOfTheWrongTypeOrRangeNameTheFileAndKey) {
  const std::string path = replay_dir("resume_point") + "/bertforge_state.json";
  auto refused = [&](const std::string& text, const std::string& part) {
    write_bytes(path, text);
    expect_error_containing([&] { load_resume_point(path); }, path + part);
  };
  const std::string head = R"({"format":"bertforge-resume","version":1,)";
  refused("[]", ": expected a JSON object (bertforge resume file), found array");
  refused(R"({"format":1})", ": not a bertforge resume file");
  refused(R"({"format":"bertforge-resume","version":"1"})", ": resume format version \"1\" is not supported");
  refused(head + R"("phase":-1,"phase_start_step":0,"loader":{"epoch":0,"batch":0}})",
          ": phase: expected an integer in [0, 2147483647], found -1");
  refused(head + R"("phase":0,"phase_start_step":-5,"loader":{"epoch":0,"batch":0}})", ": phase_start_step: expected");
  refused(head + R"("phase":0,"phase_start_step":0,"loader":[0,0]})", ": loader: expected an object");
  refused(head + R"("phase":0,"phase_start_step":0,"loader":{"epoch":1.5,"batch":0}})",
          ": loader.epoch: expected an integer in [0, 18446744073709551615], found 1.5");
  refused(head + R"("phase":0,"loader":{"epoch":0,"batch":0}})",
          ": phase_start_step: expected an integer in [0, "
          "9223372036854775807], found nothing");
  refused(head + R"("phase":0,"phase_start_step":0,"loader":{"epoch":0,"batch":0},"learning_rate_scale":2})",
          ": learning_rate_scale: expected a number in (0, 1], found 2");
  const std::string v2 = R"({"format":"bertforge-resume","version":2,"phase":0,"phase_start_step":0,)"
                         R"("loader":{"epoch":0,"batch":0},)";
  refused(v2 + R"("files":{}})", ": files: expected an object of the checkpoint's files");
  refused(v2 + R"("files":{"../model.safetensors":{"bytes":1,"crc32":2}}})",
          ": files: \"../model.safetensors\" is not a file name inside the checkpoint");
  refused(v2 + R"("files":{"model.safetensors":{"bytes":1,"crc32":4294967296}}})",
          ": files.model.safetensors.crc32: expected an integer in [0, 4294967295], found 4294967296");
  // A checkpoint's state lists the files beside it, with their sizes and checksums.
  write_bytes(std::filesystem::path(path).replace_filename("model.safetensors").string(), "weights");
  ResumePoint p{1, 20, {3, 4}, 0.5};
  save_resume_point(path, p);
  ResumePoint q = load_resume_point(path);
  EXPECT_EQ(q.phase, 1);
  EXPECT_EQ(q.phase_start_step, 20);
  EXPECT_EQ(q.loader, (bertforge::data::LoaderPosition{3, 4}));
  EXPECT_EQ(q.lr_scale, 0.5);
  EXPECT_EQ(q.files["model.safetensors"]["bytes"], 7);
}
