// An ordered parallel map over the lines of a stream, with bounded memory.
//
// The calling thread cuts the input into chunks of whole lines (about chunk_bytes each, a longer line makes
// a longer chunk) and hands them to `threads` workers running fn(chunk, first_line) (util/ordered_pool.h; one
// thread runs it in the caller); it writes the results in input order and reads ahead only while fewer than
// 2 chunks per worker are in flight, so memory stays at a few chunks per thread whatever the input size. Each chunk passed to fn ends in '\n' (one is added to a
// last line that lacks it). The first exception (from fn, reading or writing) stops everything and is
// rethrown; what was written before it stays written.
#pragma once
#include <cstdint>
#include <functional>
#include <istream>
#include <ostream>
#include <string>
#include <string_view>

namespace bertforge::text {

struct ParallelLinesOptions {
  int threads = 1;
  std::size_t chunk_bytes = 1 << 20;
  std::uint64_t total_bytes = 0;  // for progress on stderr; 0 when unknown
  std::string label = "lines";    // progress label
  std::string output_name = "<stdout>";  // names the output in a write error
};

// fn(lines, first_line): `lines` holds whole lines each ending in '\n'; first_line is 1-based.
using ChunkFn = std::function<std::string(std::string_view lines, std::uint64_t first_line)>;

// Returns the number of lines read.
std::uint64_t map_lines_ordered(std::istream& in, std::ostream& out, const ParallelLinesOptions& options,
                                const ChunkFn& fn);

}  // namespace bertforge::text
