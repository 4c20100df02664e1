// How the `bertforge` executable reports a failure and ends: every message one line,
//   bertforge <command>: <file, line or option>: what is wrong (what to do)
// CLI11's own messages (unknown option, missing value, out of range, wrong type) are reworded into the same
// form and point to `--help`. Exit status: 0 success (and --help), 1 bad input or a failure while running,
// 2 a usage error (the command line or an option value; nothing was done), 128 + N after signal N.
#pragma once
#include <CLI/CLI.hpp>

#include <exception>
#include <string>

namespace bertforge::cli {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// Prints CLI11's help for --help (returns 0), else the parse error in the house style (returns 2).
// `root` is the top-level app: the subcommand named in the message is the one being parsed.
int report_parse_error(const CLI::App& root, const CLI::ParseError& e);

// Prints any exception thrown while a command runs (bertforge::Error, LibTorch's c10::Error, filesystem
// and JSON errors, out of memory) as one line; returns 2 for bertforge::UsageError, else 1.
int report_failure(const std::exception& e);

}  // namespace bertforge::cli
