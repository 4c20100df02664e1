// Character classes and per-character normalization with the semantics of HF tokenizers' BertNormalizer and
// BertPreTokenizer (the Rust code behind BertTokenizerFast), backed by utf8proc's Unicode tables.
//
// Where HF's Rust and Google's Python tokenization.py disagree we follow HF tokenizers, the oracle of our
// tests: U+2028/U+2029 are whitespace, unassigned code points (Cn) are ordinary characters rather than
// control characters, lower-casing is the full mapping (U+0130 -> "i" + U+0307), and the CJK ranges are
// HF's (which start the fifth extension block at U+2B920).
#pragma once
#include <cstdint>

namespace bertforge::text::unicode {

// '\t', '\n', '\r' or the Unicode White_Space property.
bool is_whitespace(char32_t c);
// Categories Cc, Cf, Co, Cs, except '\t', '\n', '\r' (which are whitespace).
bool is_control(char32_t c);
// ASCII punctuation (so '$', '+', '^', '`' count) or any category P*.
bool is_punctuation(char32_t c);
// A CJK ideograph: split into a word of its own.
bool is_chinese_char(char32_t c);
// Category Mn: what strip_accents removes after NFD.
bool is_nonspacing_mark(char32_t c);

// Canonical decomposition (NFD) of c into out; returns the count (at most kMaxDecomposition).
constexpr int kMaxDecomposition = 8;
int nfd(char32_t c, char32_t* out);

// Full lower-case mapping into out; returns the count (1 or 2).
int to_lower(char32_t c, char32_t* out);

}  // namespace bertforge::text::unicode
