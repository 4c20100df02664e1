// Multi-phase recipe JSON (train/pretrain.h load_recipe): every phase that loads applies to the arguments.
#include "bertforge/train/pretrain.h"
#include "harness.h"

using namespace bertforge;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::fresh_dir() + "/recipe.json";
  fuzz::write_file(path, {reinterpret_cast<const char*>(data), size});
  train::PretrainSpec spec;
  if (!fuzz::parses([&] { train::load_recipe(path, spec); }, path)) return 0;
  if (spec.phases.empty()) fuzz::finding("a recipe without phases loaded");
  for (const auto& phase : spec.phases) {
    train::TrainingArguments a = spec.args;
    a.update(phase.overrides, "again");
  }
  return 0;
}
