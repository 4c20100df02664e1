// `bertforge tokenize` as a library call: tokenizes a stream line by line on a pool of threads, one output
// line per input line, in input order, with bounded memory (see parallel_lines.h).
//
// Output per line: space-separated ids (default), WordPiece pieces (format tokens), or a JSON object with
// HF's names {"input_ids": [...], "token_type_ids": [...], "attention_mask": [...]} (format jsonl).
// With `pairs`, each line is "text_a<TAB>text_b" (a line without a tab is a single text). `encode` adds
// special tokens, truncation and padding as Tokenizer::encode_plus; by default none of them, so the ids are
// exactly Tokenizer::encode's. Invalid UTF-8 is an Error naming `input_name` and the line, unless
// replace_errors (then each ill-formed sequence reads as U+FFFD, like Python's errors="replace").
#pragma once
#include <cstdint>
#include <istream>
#include <ostream>
#include <string>

#include "bertforge/text/parallel_lines.h"
#include "bertforge/text/tokenizer.h"

namespace bertforge::text {

enum class OutputFormat { ids, tokens, jsonl };

struct TokenizeStreamOptions {
  OutputFormat format = OutputFormat::ids;
  bool pairs = false;
  EncodeOptions encode = no_special_tokens();
  bool replace_errors = false;  // invalid UTF-8 -> U+FFFD instead of an error
  ParallelLinesOptions lines;   // threads, chunk size, progress

  static EncodeOptions no_special_tokens() {
    EncodeOptions e;
    e.add_special_tokens = false;
    return e;
  }
};

// Returns the number of lines written.
std::uint64_t tokenize_stream(const Tokenizer& tokenizer, std::istream& in, const std::string& input_name,
                              std::ostream& out, const TokenizeStreamOptions& options);

struct DecodeStreamOptions {
  bool skip_special_tokens = false;
  bool clean_up_tokenization_spaces = false;
  ParallelLinesOptions lines;
};

// The inverse: each input line of space-separated ids becomes Tokenizer::decode's text. A field that is not
// an integer is an Error naming `input_name` and the line. Returns the number of lines written.
std::uint64_t decode_stream(const Tokenizer& tokenizer, std::istream& in, const std::string& input_name,
                            std::ostream& out, const DecodeStreamOptions& options);

}  // namespace bertforge::text
