// Errors users see: one line that names the file, line or field at fault.
// Library code throws bertforge::Error; the CLI prints what() after "bertforge: error: " and exits 1.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

namespace bertforge {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "path:line: what" — the form compilers use, so editors can jump to it. line 0 means "the whole file".
[[noreturn]] void fail_at(const std::string& path, std::uint64_t line, const std::string& what);

}  // namespace bertforge
