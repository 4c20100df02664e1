#include "bertforge/util/messages.h"

#include <cmath>
#include <cstdio>

namespace bertforge {

namespace {
std::string g_command;

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}
}  // namespace

std::string allowed_text(const Interval& a) {
  if (std::isinf(a.hi)) return (a.lo_open ? "> " : ">= ") + number_text(a.lo);
  return std::string("in ") + (a.lo_open ? "(" : "[") + number_text(a.lo) + ", " + number_text(a.hi) +
         (a.hi_open ? ")" : "]");
}

void check_option(const std::string& option, double value, const Interval& a) {
  if (!std::isfinite(value)) throw UsageError(option + ": " + number_text(value) + " is not a finite number");
  bool above = a.lo_open ? value > a.lo : value >= a.lo;
  bool below = std::isinf(a.hi) || (a.hi_open ? value < a.hi : value <= a.hi);
  if (!above || !below)
    throw UsageError(option + ": " + number_text(value) + " is out of range (must be " + allowed_text(a) + ")");
}

void set_command(const std::string& name) { g_command = name; }

std::string message_prefix() { return g_command.empty() ? "bertforge" : "bertforge " + g_command; }

void warn(const std::string& what) {
  std::fprintf(stderr, "%s: warning: %s\n", message_prefix().c_str(), escape_controls(what).c_str());
}

void note(const std::string& what) {
  std::fprintf(stderr, "%s: note: %s\n", message_prefix().c_str(), escape_controls(what).c_str());
}

}  // namespace bertforge
