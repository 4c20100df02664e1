#include "bertforge/cli/errors.h"

#include <c10/util/Exception.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <new>
#include <nlohmann/json.hpp>
#include <regex>

#include "bertforge/util/messages.h"

namespace bertforge::cli {

namespace {

// Escaped here too: CLI11's, LibTorch's and the filesystem's messages quote what the user gave.
void print(const std::string& line) {
  std::fprintf(stderr, "%s: %s\n", message_prefix().c_str(), escape_controls(line).c_str());
}

bool is_number(const std::string& s) {
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return !s.empty() && *end == '\0';
}

// "Value X not in range LO to HI" (CLI::Range, PositiveNumber, NonNegativeNumber) as the allowed range: CLI11
// writes the bounds with std::to_string, 309 digits for DBL_MAX.
std::string range_words(const std::string& value, const std::string& lo_text, const std::string& hi_text) {
  if (!is_number(value)) return "'" + value + "' is not a number";
  const double v = std::stod(value), lo = std::stod(lo_text), hi = std::stod(hi_text);
  const double inf = std::numeric_limits<double>::infinity();
  Interval allowed{lo, hi >= 1e300 ? inf : hi};
  // PositiveNumber is [DBL_MIN, DBL_MAX], printed "0.000000": a refused v >= 0 means "> 0" was asked
  if (lo == 0 && v >= 0 && std::isinf(allowed.hi)) allowed.lo_open = true;
  return value + " is out of range (must be " + allowed_text(allowed) + ")";
}

// The type an option takes, in words, for "cannot read 'x' as ...".
std::string type_words(const CLI::App* app, const std::string& option) {
  const CLI::Option* o = app ? app->get_option_no_throw(option) : nullptr;
  std::string t = o ? o->get_type_name() : "";
  if (t == "INT" || t == "UINT") return "an integer";
  if (t == "FLOAT") return "a number";
  return t.empty() ? "a value of this option" : t;
}

std::string command_list(const CLI::App& root) {
  std::string out;
  for (const CLI::App* c : root.get_subcommands([](const CLI::App*) { return true; }))
    out += (out.empty() ? "" : ", ") + c->get_name();
  return out;
}

// CLI11's message reworded as "<option>: what is wrong"; `app` is the (sub)command being parsed.
std::string reword(const CLI::App& root, const CLI::App* app, const std::string& m) {
  std::smatch g;
  static const std::regex range(R"(^(\S+): Value (.*) not in range (\S+) to (\S+)$)");
  static const std::regex member(R"(^(\S+): (.*) not in \{(.*)\}$)");
  static const std::regex convert(R"(^Could not convert: (\S+) = (.*)$)");
  static const std::regex not_allowed(R"(^The value (.*) is not an allowed value for (\S+)$)");
  static const std::regex required(R"(^(.+) is required$)");
  static const std::regex extras(R"(^The following arguments? (?:was|were) not expected: (.*)$)");
  if (std::regex_match(m, g, range)) return g[1].str() + ": " + range_words(g[2], g[3], g[4]);
  if (std::regex_match(m, g, member))
    return g[1].str() + ": '" + g[2].str() + "' is not one of " + std::regex_replace(g[3].str(), std::regex(","), ", ");
  if (std::regex_match(m, g, convert))
    return g[1].str() + ": cannot read '" + g[2].str() + "' as " + type_words(app, g[1]);
  if (std::regex_match(m, g, not_allowed))
    return g[2].str() + ": cannot read '" + g[1].str() + "' as " + type_words(app, g[2]);
  if (m == "A subcommand is required") {  // CLI11 says so for a misspelt command too: name it
    std::vector<std::string> rest = root.remaining();
    if (!rest.empty() && rest.front().rfind('-', 0) != 0)
      return "'" + rest.front() + "' is not a bertforge command (one of: " + command_list(root) + ")";
    return "a command is required (one of: " + command_list(root) + ")";
  }
  if (std::regex_match(m, g, required)) return g[1].str() + ": required";
  if (std::regex_match(m, g, extras)) {
    if (app == &root) return "'" + g[1].str() + "' is not a bertforge command (one of: " + command_list(root) + ")";
    return g[1].str() + ": not expected (an unknown option, or one argument too many)";
  }
  return m;
}

}  // namespace

int report_parse_error(const CLI::App& root, const CLI::ParseError& e) {
  if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return root.exit(e);  // --help
  auto parsed = root.get_subcommands();
  const CLI::App* app = parsed.empty() ? &root : parsed.back();
  if (app != &root) set_command(app->get_name());
  std::string help = app == &root ? "bertforge --help" : "bertforge " + app->get_name() + " --help";
  print(reword(root, app, e.what()) + " (see `" + help + "`)");
  return kExitUsage;
}

int report_failure(const std::exception& e) {
  if (const auto* t = dynamic_cast<const c10::Error*>(&e)) {
    // LibTorch's message goes on with hints and a backtrace after its first line.
    std::string m = t->what_without_backtrace();
    print(m.substr(0, m.find('\n')));
  } else if (const auto* f = dynamic_cast<const std::filesystem::filesystem_error*>(&e)) {
    print(f->path1().string() + ": " + f->code().message());
  } else if (dynamic_cast<const nlohmann::json::exception*>(&e)) {
    // "[json.exception.type_error.302] type must be string, but is number": a field of the wrong type
    print(std::regex_replace(e.what(), std::regex(R"(^\[json\.exception\.[a-z_]+\.\d+\] )"), "JSON: "));
  } else if (dynamic_cast<const std::bad_alloc*>(&e)) {
    print("out of memory (try a smaller batch, dataset chunk or model)");
  } else {
    print(e.what());
  }
  return dynamic_cast<const UsageError*>(&e) ? kExitUsage : kExitFailure;
}

}  // namespace bertforge::cli
