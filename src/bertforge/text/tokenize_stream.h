// Tokenizes a stream line by line on a pool of threads: one output line per input line (space-separated ids,
// or pieces), in input order, with memory bounded by a few chunks per thread whatever the input size.
//
// The reader cuts the input into chunks of whole lines; workers encode chunks; the calling thread writes
// finished chunks in order and reads the next only while fewer than 2 per worker are in flight.
// Invalid UTF-8 is an Error naming `input_name` and the line, unless replace_errors (then each ill-formed
// sequence reads as U+FFFD, like Python's errors="replace"). On an error, what was written so far stays
// written: callers that want all-or-nothing write through AtomicFile.
#pragma once
#include <cstdint>
#include <istream>
#include <ostream>
#include <string>

#include "bertforge/text/tokenizer.h"

namespace bertforge::text {

struct TokenizeStreamOptions {
  bool tokens = false;          // print WordPiece pieces instead of ids
  bool replace_errors = false;  // invalid UTF-8 -> U+FFFD instead of an error
  int threads = 1;              // worker threads
  std::size_t chunk_bytes = 1 << 20;
  std::uint64_t total_bytes = 0;  // for progress; 0 when unknown
};

// Returns the number of lines written.
std::uint64_t tokenize_stream(const Tokenizer& tokenizer, std::istream& in, const std::string& input_name,
                              std::ostream& out, const TokenizeStreamOptions& options);

}  // namespace bertforge::text
