// trainer_state.json (train/trainer_state.h): a state that loads survives a round trip through to_json.
#include "bertforge/train/trainer_state.h"
#include "bertforge/util/json_file.h"
#include "harness.h"

using namespace bertforge;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::fresh_dir() + "/trainer_state.json";
  fuzz::write_file(path, {reinterpret_cast<const char*>(data), size});
  train::TrainerState s;
  if (!fuzz::parses([&] { s = train::TrainerState::load(path); }, path)) return 0;
  // Compared as text: a NaN loss (as Python writes it) is never equal to itself as a number.
  const nlohmann::json once = s.to_json();
  if (dump_json(train::TrainerState::from_json(once, "again").to_json()) != dump_json(once))
    fuzz::finding("trainer state changes in a round trip");
  return 0;
}
