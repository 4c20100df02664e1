#include "bertforge/util/json_file.h"

#include <filesystem>
#include <fstream>
#include <regex>

#include "bertforge/util/atomic_file.h"
#include "bertforge/util/error.h"

namespace bertforge {

namespace {

// nlohmann's "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error ..." as
// "<path>:3: not valid JSON (column 5: syntax error ...)", the form of every other file error.
[[noreturn]] void fail_parse(const std::string& path, const nlohmann::json::parse_error& e) {
  static const std::regex where(R"(^\[json\.exception\.[a-z_]+\.\d+\] parse error at line (\d+), column (\d+): )");
  std::string text = e.what();
  std::smatch m;
  if (!std::regex_search(text, m, where)) fail_at(path, 0, "not valid JSON (" + text + ")");
  fail_at(path, std::stoull(m[1]), "not valid JSON (column " + m[2].str() + ": " + m.suffix().str() + ")");
}

}  // namespace

nlohmann::json read_json_file(const std::string& path, const std::string& what) {
  if (std::filesystem::is_directory(path)) fail_at(path, 0, "is a folder, not a " + what + " file");
  std::ifstream in(path);
  if (!in) fail_at(path, 0, "cannot read " + what);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    fail_parse(path, e);
  }
  if (!j.is_object()) fail_at(path, 0, "expected a JSON object (" + what + "), found " + j.type_name());
  return j;
}

void write_json_file(const std::string& path, const nlohmann::json& j) {
  AtomicFile out(path);
  out.stream() << j.dump(2) << "\n";
  out.commit();
}

}  // namespace bertforge
