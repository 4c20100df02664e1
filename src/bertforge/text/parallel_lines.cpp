#include "bertforge/text/parallel_lines.h"

#include <algorithm>
#include <memory>

#include "bertforge/util/error.h"
#include "bertforge/util/ordered_pool.h"
#include "bertforge/util/progress.h"

namespace bertforge::text {

namespace {

struct Chunk {
  std::uint64_t first_line = 0;
  std::string text;
};

// Reads about chunk_bytes of whole lines into chunk.text; false at the end of the input.
bool read_chunk(std::istream& in, std::size_t chunk_bytes, std::string& carry, Chunk& chunk) {
  chunk.text = std::move(carry);
  carry.clear();
  for (;;) {
    std::size_t old = chunk.text.size();
    chunk.text.resize(old + chunk_bytes);
    in.read(&chunk.text[old], static_cast<std::streamsize>(chunk_bytes));
    chunk.text.resize(old + static_cast<std::size_t>(in.gcount()));
    if (in.bad()) throw Error("read error on the input");
    if (chunk.text.empty()) return false;
    if (in.eof()) {
      if (chunk.text.back() != '\n') chunk.text += '\n';
      return true;
    }
    std::size_t last_nl = chunk.text.rfind('\n');
    if (last_nl != std::string::npos) {
      carry.assign(chunk.text, last_nl + 1, std::string::npos);
      chunk.text.resize(last_nl + 1);
      return true;
    }
    // A line longer than a chunk: read on until it ends.
  }
}

}  // namespace

std::uint64_t map_lines_ordered(std::istream& in, std::ostream& out, const ParallelLinesOptions& options,
                                const ChunkFn& fn) {
  const int workers = std::max(1, options.threads);
  Progress progress(options.label, options.total_bytes, "MB", 1e-6);
  std::uint64_t lines = 0, bytes = 0;
  std::string carry;
  OrderedPool pool(workers, 2 * workers);
  for (auto chunk = std::make_shared<Chunk>(); read_chunk(in, options.chunk_bytes, carry, *chunk);
       chunk = std::make_shared<Chunk>()) {
    chunk->first_line = lines + 1;
    lines += static_cast<std::uint64_t>(std::count(chunk->text.begin(), chunk->text.end(), '\n'));
    bytes += chunk->text.size();
    auto result = std::make_shared<std::string>();
    pool.submit([&fn, chunk, result] { *result = fn(chunk->text, chunk->first_line); },
                [&, result] {
                  out.write(result->data(), static_cast<std::streamsize>(result->size()));
                  if (!out) fail_at(options.output_name, 0, "write error (disk full, or the reader closed the pipe?)");
                  progress.update(bytes);
                });
  }
  pool.finish();
  if (options.total_bytes) progress.finish();  // with no total, finish() would report 0 bytes
  return lines;
}

}  // namespace bertforge::text
