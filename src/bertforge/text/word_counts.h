// The first pass of train-tokenizer: how often each word occurs in a corpus, counted in one streaming,
// multi-threaded read.
//
// Files are read in blocks of whole lines handed to num_threads() workers, each counting into its own map;
// the maps are merged at the end. Memory is bounded by the number of distinct words (times the workers) plus
// a few blocks in flight, never by the corpus size. Counts are 64-bit.
// Each line is checked for UTF-8: ill-formed -> Error "file:line: invalid UTF-8 ..." (Utf8Errors::strict), or
// (Utf8Errors::replace) read as Python's errors='replace' would, each bad sequence a U+FFFD, which BERT's
// text cleaning then drops. When several lines are bad, the error names the first one in corpus order.
// Sampling keeps each line with probability `sample`; whether a line is kept depends only on the seed, the
// file's position in the list and the line number, so the counts do not depend on the thread count.
// Progress (util/progress.h) over the bytes of all files, with rate and ETA.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace bertforge::text {

class BasicTokenizer;

using WordCounts = std::unordered_map<std::string, std::uint64_t>;

enum class Utf8Errors { strict, replace };

struct CountOptions {
  double sample = 1.0;        // keep each line with this probability, in (0, 1]
  std::uint64_t seed = 0;     // which lines sampling keeps
  Utf8Errors errors = Utf8Errors::strict;
  int threads = 0;            // 0: num_threads()
};

// `splitter` (BERT's normalizer and pre-tokenizer; its split() is thread-safe) cuts each line into words.
WordCounts count_words(const std::vector<std::string>& files, const BasicTokenizer& splitter,
                       const CountOptions& options = {});

// Whether sampling at probability `sample` with `seed` keeps line `line` (1-based) of the file at `file`
// (0-based) in the list: a pure function, exposed so tests can check what count_words kept.
bool sample_keeps(double sample, std::uint64_t seed, std::size_t file, std::uint64_t line);

}  // namespace bertforge::text
