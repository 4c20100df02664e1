#include "bertforge/util/error.h"

#include <cstdio>

namespace bertforge {

Error::Error(const std::string& what) : std::runtime_error(escape_controls(what)) {}

std::string escape_controls(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7f) {
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\u%04x", u);
      out += hex;
    }
  }
  return out;
}

void fail_at(const std::string& path, std::uint64_t line, const std::string& what) {
  throw Error(line ? path + ":" + std::to_string(line) + ": " + what : path + ": " + what);
}

}  // namespace bertforge
