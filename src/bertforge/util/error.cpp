#include "bertforge/util/error.h"

namespace bertforge {

void fail_at(const std::string& path, std::uint64_t line, const std::string& what) {
  throw Error(line ? path + ":" + std::to_string(line) + ": " + what : path + ": " + what);
}

}  // namespace bertforge
