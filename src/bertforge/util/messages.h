// How bertforge speaks: every error and warning one line in one style,
//   bertforge <command>: <file, line or option>: what is wrong (what to do)
// Library code throws bertforge::Error (util/error.h) with what() = "<file, line or option>: what is wrong (what
// to do)", or UsageError for an option or argument; the CLI prints it after message_prefix() and exits 1 (2
// for a UsageError, 128 + N after signal N: cli/errors.h). Warnings go through warn(), in the same voice:
// "bertforge <command>: warning: <what>".
#pragma once
#include <string>

#include "bertforge/util/error.h"

namespace bertforge {

// An option or argument that is missing, unknown or outside its allowed range: a usage error (exit 2),
// found before any work is done. The message names the option and the values allowed.
class UsageError : public Error {
 public:
  using Error::Error;
};

// The values an option allows. hi = infinity: no upper bound.
struct Interval {
  double lo, hi;
  bool lo_open = false, hi_open = false;
};
// "in [0, 1)", ">= 1", "> 0": how messages state an Interval.
std::string allowed_text(const Interval& allowed);
// Throws UsageError "<option>: <value> is out of range (must be in [lo, hi])" unless value lies in `allowed`;
// NaN and infinities never do ("<option>: nan is not a finite number").
void check_option(const std::string& option, double value, const Interval& allowed);

// The subcommand running, named in every message ("bertforge fill-mask: ..."); empty before one is chosen.
void set_command(const std::string& name);
// "bertforge <command>" (or "bertforge" when no subcommand is set).
std::string message_prefix();
// Prints "<message_prefix()>: warning: <what>" on stderr, on one line (control characters escaped).
void warn(const std::string& what);
// The same as "<message_prefix()>: note: <what>": something done as expected that a user may want to know.
void note(const std::string& what);

}  // namespace bertforge
