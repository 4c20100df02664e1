#include "bertforge/text/utf8.h"

#include <algorithm>

#include "bertforge/util/error.h"

namespace bertforge::text {

namespace {

// Valid second-byte range for a lead byte (Unicode Table 3-7); the remaining bytes are 80..BF.
struct Lead {
  int length;
  unsigned char lo, hi;
};

Lead lead_info(unsigned char b) {
  if (b < 0x80) return {1, 0, 0};
  if (b < 0xC2) return {0, 0, 0};
  if (b < 0xE0) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};
  if (b < 0xF0) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b < 0xF4) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

// Length of the well-formed sequence at s[i], or -(bytes of its maximal subpart) when ill-formed.
int scan(std::string_view s, std::size_t i) {
  auto b = static_cast<unsigned char>(s[i]);
  Lead lead = lead_info(b);
  if (lead.length == 1) return 1;
  if (lead.length == 0) return -1;
  int n = 1;
  for (; n < lead.length; ++n) {
    if (i + n >= s.size()) return -n;
    auto c = static_cast<unsigned char>(s[i + n]);
    unsigned char lo = n == 1 ? lead.lo : 0x80, hi = n == 1 ? lead.hi : 0xBF;
    if (c < lo || c > hi) return -n;
  }
  return n;
}

}  // namespace

char32_t decode_utf8(std::string_view s, std::size_t& i) {
  int n = scan(s, i);
  if (n < 0) {
    i += -n;
    return kReplacementChar;
  }
  auto b = static_cast<unsigned char>(s[i]);
  char32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
  for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += n;
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::size_t find_invalid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    int n = scan(s, i);
    if (n < 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

void check_utf8(std::string_view s, const std::string& path, std::uint64_t line) {
  std::size_t bad = find_invalid_utf8(s);
  if (bad != std::string_view::npos)
    fail_at(path, line, "invalid UTF-8 at byte " + std::to_string(bad + 1) +
                            " of the line");
}

std::string replace_invalid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) append_utf8(out, decode_utf8(s, i));
  return out;
}

std::vector<std::uint32_t> code_point_index(std::string_view s) {
  std::vector<std::uint32_t> index(s.size() + 1);
  std::uint32_t count = 0;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t begin = i;
    decode_utf8(s, i);
    std::fill(index.begin() + begin, index.begin() + i, count++);
  }
  index[s.size()] = count;
  return index;
}

}  // namespace bertforge::text
