// UTF-8 decoding and validation.
//
// decode_utf8() reads one code point and never fails: an ill-formed sequence yields U+FFFD and consumes the
// "maximal subpart" (Unicode 15, §3.9), which is exactly what Python's bytes.decode(errors="replace") does,
// so one bad byte run becomes one U+FFFD the way HF's Python front end would see it.
// check_utf8() is the strict form used on input files: it names the file and line of the first bad byte.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bertforge::text {

constexpr char32_t kReplacementChar = 0xFFFD;

// Decodes the code point at s[i] and advances i past it (at least one byte).
char32_t decode_utf8(std::string_view s, std::size_t& i);

// Appends the UTF-8 form of cp to out.
void append_utf8(std::string& out, char32_t cp);

// Offset of the first ill-formed byte, or npos when s is valid UTF-8.
std::size_t find_invalid_utf8(std::string_view s);

// Throws Error "path:line: invalid UTF-8 at byte N of the line" when s is not valid UTF-8.
void check_utf8(std::string_view s, const std::string& path, std::uint64_t line);

// index[k] for each byte offset k in [0, s.size()]: how many code points decode_utf8 reads before it (a
// Python str index of the same text), the code point's own index for a byte inside one.
std::vector<std::uint32_t> code_point_index(std::string_view s);

// s with each ill-formed subsequence replaced by U+FFFD (Python's errors="replace").
std::string replace_invalid_utf8(std::string_view s);

}  // namespace bertforge::text
