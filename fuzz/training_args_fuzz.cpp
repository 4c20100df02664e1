// Training-argument JSON files (train/training_args.h, --config_file): arguments that load and validate
// survive a round trip through to_json.
#include <nlohmann/json.hpp>

#include "bertforge/train/training_args.h"
#include "harness.h"

using namespace bertforge;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::fresh_dir() + "/args.json";
  fuzz::write_file(path, {reinterpret_cast<const char*>(data), size});
  train::TrainingArguments a;
  if (!fuzz::parses([&] { a = train::TrainingArguments::from_json_file(path); }, path)) return 0;
  if (!fuzz::parses([&] { a.validate(); }, "--")) return 0;  // validate() names the option at fault: "--name: "
  train::TrainingArguments b;
  b.update(a.to_json(), "again");
  if (b.to_json() != a.to_json()) fuzz::finding("training arguments change in a round trip");
  return 0;
}
