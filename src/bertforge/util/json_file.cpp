#include "bertforge/util/json_file.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "bertforge/util/atomic_file.h"
#include "bertforge/util/error.h"
#include "bertforge/util/strings.h"

namespace bertforge {

namespace {
// A non-finite number travels through nlohmann as a string no real file holds, then becomes the bare token.
constexpr std::string_view kMark = "\x1f" "bertforge-nonfinite:";
constexpr std::string_view kTokens[] = {"NaN", "Infinity", "-Infinity"};

bool has_nonfinite(const nlohmann::json& j) {
  if (j.is_number_float()) return !std::isfinite(j.get<double>());
  if (j.is_structured())
    for (const auto& v : j)
      if (has_nonfinite(v)) return true;
  return false;
}

void mark_nonfinite(nlohmann::json& j) {
  if (j.is_number_float()) {
    const double v = j.get<double>();
    if (!std::isfinite(v)) j = std::string(kMark) + std::string(std::isnan(v) ? kTokens[0] : v > 0 ? kTokens[1] : kTokens[2]);
  } else if (j.is_structured()) {
    for (auto& v : j) mark_nonfinite(v);
  }
}

void unmark_nonfinite(nlohmann::json& j) {
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s.rfind(kMark, 0) != 0) return;
    const std::string_view t = std::string_view(s).substr(kMark.size());
    j = t == kTokens[0] ? NAN : t == kTokens[1] ? INFINITY : -INFINITY;
  } else if (j.is_structured()) {
    for (auto& v : j) unmark_nonfinite(v);
  }
}

// nlohmann's "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error ..." as
// "<path>:3: not valid JSON (column 5: syntax error ...)", the form of every other file error.
[[noreturn]] void fail_parse(const std::string& path, const nlohmann::json::parse_error& e) {
  static const std::regex where(R"(^\[json\.exception\.[a-z_]+\.\d+\] parse error at line (\d+), column (\d+): )");
  std::string text = e.what();
  std::smatch m;
  if (!std::regex_search(text, m, where)) fail_at(path, 0, "not valid JSON (" + text + ")");
  fail_at(path, std::stoull(m[1]), "not valid JSON (column " + m[2].str() + ": " + m.suffix().str() + ")");
}

// nlohmann's "[json.exception.out_of_range.406] number overflow parsing '1e999'" names no place: the line is
// the first that holds the number.
[[noreturn]] void fail_overflow(const std::string& path, const std::string& text,
                                const nlohmann::json::out_of_range& e) {
  static const std::regex what(R"(^\[json\.exception\.[a-z_]+\.\d+\] (.*'(.*)'.*)$)");
  const std::string message = e.what();
  std::smatch m;
  if (!std::regex_search(message, m, what)) fail_at(path, 0, "not valid JSON (" + message + ")");
  const std::size_t at = text.find(m[2].str());
  const auto line = at == std::string::npos ? 0 : 1 + std::count(text.begin(), text.begin() + at, '\n');
  fail_at(path, line, "not valid JSON (" + m[1].str() + ": beyond the range of a double)");
}

}  // namespace

std::string dump_json(const nlohmann::json& j, int indent) {
  if (!has_nonfinite(j)) return j.dump(indent);
  nlohmann::json marked = j;
  mark_nonfinite(marked);
  std::string text = marked.dump(indent);
  for (std::string_view t : kTokens)
    replace_all(text, "\"\\u001f" + std::string(kMark.substr(1)) + std::string(t) + "\"", t);
  return text;
}

nlohmann::json parse_json(std::string_view text) {
  if (text.find("NaN") == std::string_view::npos && text.find("Infinity") == std::string_view::npos)
    return nlohmann::json::parse(text);
  // The tokens outside strings become marked strings; inside strings they are text and stay.
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) out += text[++i];
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    bool replaced = false;
    for (std::string_view t : kTokens)
      if (text.substr(i, t.size()) == t) {
        out += nlohmann::json(std::string(kMark) + std::string(t)).dump();
        i += t.size() - 1;
        replaced = true;
        break;
      }
    if (!replaced) out += c;
  }
  nlohmann::json j = nlohmann::json::parse(out);
  unmark_nonfinite(j);
  return j;
}

nlohmann::json read_json_file(const std::string& path, const std::string& what) {
  if (std::filesystem::is_directory(path)) fail_at(path, 0, "is a folder, not a " + what + " file");
  std::ifstream in(path);
  if (!in) fail_at(path, 0, "cannot read " + what);
  std::stringstream text;
  text << in.rdbuf();
  const std::string content = text.str();
  nlohmann::json j;
  try {
    j = parse_json(content);
  } catch (const nlohmann::json::parse_error& e) {
    fail_parse(path, e);
  } catch (const nlohmann::json::out_of_range& e) {
    fail_overflow(path, content, e);
  }
  if (!j.is_object()) fail_at(path, 0, "expected a JSON object (" + what + "), found " + j.type_name());
  return j;
}

void write_json_file(const std::string& path, const nlohmann::json& j) {
  AtomicFile out(path);
  out.stream() << dump_json(j, 2) << "\n";
  out.commit();
}

void fail_unexpected_value(const std::string& path, const std::string& field, const nlohmann::json& v) {
  std::string shown = v.dump(-1, ' ', true);  // ASCII, so that cutting it keeps valid text
  if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
  fail_at(path, 0, field + ": unexpected value " + shown);
}

}  // namespace bertforge
