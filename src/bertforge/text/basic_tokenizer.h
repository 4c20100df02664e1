// BERT's BasicTokenizer: the normalization and word splitting that run before WordPiece, with the options
// and semantics of HF tokenizers' BertNormalizer + BertPreTokenizer (see unicode.h for where HF's Rust and
// Google's Python differ; we follow HF's Rust).
//
// Per character: clean_text drops NUL, U+FFFD and control characters; handle_chinese_chars makes every CJK
// ideograph a word; strip_accents (default: follows lowercase) applies NFD and drops nonspacing marks;
// lowercase applies the full lower-case mapping. The normalized text is then split on whitespace and around
// each punctuation character. Tokens in `never_split` (the special and added tokens) are matched in the raw
// text, leftmost-longest, before any of this and come out as single words, flagged as such.
// Invalid UTF-8 in the input reads as U+FFFD, so clean_text drops it; validate input first (utf8.h) to
// report it instead. Thread-safe: split() is const and keeps no state.
// split() can also say where each byte of the words came from (HF's NormalizedString alignments), the ground
// of the tokenizer's offsets; without that argument it pays nothing for it.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bertforge::text {

// HF BertNormalizer's options, with its names and defaults.
struct NormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  std::optional<bool> strip_accents;  // unset: same as lowercase
  bool lowercase = false;
};

// The words of a text, back to back in one buffer so that splitting allocates nothing once warm.
struct Words {
  std::string chars;                 // every word's bytes, concatenated
  std::vector<std::uint32_t> ends;   // word i is chars[ends[i-1], ends[i])
  std::vector<std::int32_t> special; // word i's index in never_split, or -1

  std::size_t size() const { return ends.size(); }
  std::string_view operator[](std::size_t i) const;
  void clear();
  void close_word();  // ends the word being built, if it has any bytes
};

// A byte range [begin, end) of the text given to split().
struct ByteSpan {
  std::uint32_t begin, end;
};

class BasicTokenizer {
 public:
  explicit BasicTokenizer(NormalizerOptions options = {}, std::vector<std::string> never_split = {});

  // Appends the words of `text` to `out`.
  void split(std::string_view text, Words& out) const;
  // The same, and origin[k] is the span of `text` that byte k of out.chars came from: its one source code
  // point (or never_split token), which the characters a code point becomes (NFD, lower-casing) share, as
  // in HF. origin ends up as long as out.chars (bytes that were there before get {0, 0}).
  void split(std::string_view text, Words& out, std::vector<ByteSpan>& origin) const;
  // The words of `text` as strings (convenient, not fast).
  std::vector<std::string> words(std::string_view text) const;

  const NormalizerOptions& options() const { return options_; }
  const std::vector<std::string>& never_split() const { return never_split_; }

 private:
  enum class Kind : std::uint8_t { drop, space, punct, letter };
  struct AsciiClass {
    Kind kind;
    char mapped;  // the byte after lower-casing
  };
  // Origin: what records where bytes came from (nothing, on the hot path); base: text's offset in the input.
  template <class Origin>
  void split_with(std::string_view text, Words& out, Origin& origin) const;
  template <class Origin>
  void split_plain(std::string_view text, std::size_t base, Words& out, Origin& origin) const;
  void add_codepoint(char32_t c, Words& out) const;
  int normalize(char32_t c, char32_t* out) const;
  std::size_t match_never_split(std::string_view text, std::size_t i, std::int32_t& index) const;

  NormalizerOptions options_;
  bool strip_accents_;
  std::array<AsciiClass, 128> ascii_{};
  std::vector<std::string> never_split_;
  std::vector<std::int32_t> by_length_;  // never_split indices, longest first
  std::array<bool, 256> first_byte_{};
};

}  // namespace bertforge::text
