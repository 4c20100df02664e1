#include "bertforge/util/json_file.h"

#include <fstream>

#include "bertforge/util/error.h"

namespace bertforge {

nlohmann::json read_json_file(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) fail_at(path, 0, "cannot read " + what);
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail_at(path, 0, std::string("not valid JSON: ") + e.what());
  }
}

}  // namespace bertforge
