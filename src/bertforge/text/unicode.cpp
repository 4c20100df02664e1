#include "bertforge/text/unicode.h"

#include <utf8proc.h>  // utf8proc_decompose_char, utf8proc_tolower

#include <algorithm>
#include <iterator>

namespace bertforge::text::unicode {

namespace {

struct CodeRange {
  char32_t first, last;
};

#include "bertforge/text/hf_unicode_tables.inc"  // kHfPunctuation, kHfControl, kHfNonspacingMark

template <std::size_t N>
bool in_ranges(const CodeRange (&ranges)[N], char32_t c) {
  auto it = std::upper_bound(std::begin(ranges), std::end(ranges), c,
                             [](char32_t x, const CodeRange& r) { return x < r.first; });
  return it != std::begin(ranges) && c <= std::prev(it)->last;
}

}  // namespace

bool is_whitespace(char32_t c) {
  // The White_Space property is a short, stable list; utf8proc does not expose it.
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

bool is_control(char32_t c) { return in_ranges(kHfControl, c); }

bool is_punctuation(char32_t c) { return in_ranges(kHfPunctuation, c); }

bool is_chinese_char(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool is_nonspacing_mark(char32_t c) { return in_ranges(kHfNonspacingMark, c); }

int nfd(char32_t c, char32_t* out) {
  utf8proc_int32_t buf[kMaxDecomposition];
  int last_boundclass = 0;
  auto n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), buf, kMaxDecomposition,
                                   UTF8PROC_DECOMPOSE, &last_boundclass);
  if (n <= 0 || n > kMaxDecomposition) {  // unassigned or too long: leave the character as it is
    out[0] = c;
    return 1;
  }
  for (int i = 0; i < n; ++i) out[i] = static_cast<char32_t>(buf[i]);
  return static_cast<int>(n);
}

int to_lower(char32_t c, char32_t* out) {
  // The one unconditional multi-character lower-case mapping in SpecialCasing.txt; utf8proc has only
  // the simple (one-to-one) mappings.
  if (c == 0x130) {
    out[0] = 'i';
    out[1] = 0x307;
    return 2;
  }
  out[0] = static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
  return 1;
}

}  // namespace bertforge::text::unicode
