// Errors users see: one line that names the file, line or field at fault.
// Library code throws bertforge::Error; the CLI prints "bertforge <command>: <what()>" (util/messages.h's
// message_prefix) on stderr and exits 1.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace bertforge {

// what() is always one line: control characters in the message (a newline in a name or a value read from a
// file) are shown as escapes, so whatever a message quotes cannot break its one-line form.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what);
};

// s with each control character (below 0x20, and 0x7f) written as \n, \r, \t or \u00XX, as JSON writes them.
std::string escape_controls(std::string_view s);

// "path:line: what" — the form compilers use, so editors can jump to it. line 0 means "the whole file".
[[noreturn]] void fail_at(const std::string& path, std::uint64_t line, const std::string& what);

}  // namespace bertforge
