// config.json (model/config.h): a config that parses and validates survives a round trip through to_json.
#include "bertforge/model/config.h"
#include "harness.h"

using namespace bertforge;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::fresh_dir() + "/config.json";
  fuzz::write_file(path, {reinterpret_cast<const char*>(data), size});
  model::BertConfig c;
  if (!fuzz::parses(
          [&] {
            c = model::BertConfig::load(path);
            c.validate(path);
          },
          path))
    return 0;
  const std::string once = c.to_json();
  if (model::BertConfig::parse(once, "again").to_json() != once) fuzz::finding("config changes in a round trip");
  return 0;
}
