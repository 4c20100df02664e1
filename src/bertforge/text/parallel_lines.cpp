#include "bertforge/text/parallel_lines.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "bertforge/util/error.h"
#include "bertforge/util/progress.h"

namespace bertforge::text {

namespace {

struct Chunk {
  std::uint64_t seq = 0, first_line = 0;
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

// The workers' side: a queue of chunks in, a map of results by sequence number out.
class Pool {
 public:
  Pool(int threads, const ChunkFn& fn) : fn_(fn) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closing_ = true;
      todo_.clear();  // stopped early (an error): what is queued is not wanted any more
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void push(Chunk chunk) {
    std::lock_guard<std::mutex> lock(mu_);
    todo_.push_back(std::move(chunk));
    cv_.notify_all();
  }
  // Waits for the result of chunk `seq`; rethrows the first error of any worker.
  std::string take(std::uint64_t seq) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return error_ || done_.count(seq); });
    if (error_) std::rethrow_exception(error_);
    std::string result = std::move(done_[seq]);
    done_.erase(seq);
    return result;
  }

 private:
  void work() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return !todo_.empty() || closing_; });
      if (todo_.empty() || error_) return;
      Chunk chunk = std::move(todo_.front());
      todo_.pop_front();
      lock.unlock();
      std::string result;
      std::exception_ptr error;
      try {
        result = fn_(chunk.text, chunk.first_line);
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      if (error && !error_) error_ = error;
      if (!error) done_.emplace(chunk.seq, std::move(result));
      cv_.notify_all();
    }
  }

  const ChunkFn& fn_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Chunk> todo_;
  std::map<std::uint64_t, std::string> done_;
  bool closing_ = false;
  std::exception_ptr error_;
  std::vector<std::thread> threads_;
};

}  // namespace

std::uint64_t map_lines_ordered(std::istream& in, std::ostream& out, const ParallelLinesOptions& options,
                                const ChunkFn& fn) {
  const int workers = std::max(1, options.threads);
  Pool pool(workers, fn);
  Progress progress(options.label, options.total_bytes, "MB", 1e-6);
  std::uint64_t next_seq = 0, written = 0, lines = 0, bytes = 0;
  std::string carry;
  bool more = true;
  for (;;) {
    if (more && next_seq - written < static_cast<std::uint64_t>(2 * workers)) {
      Chunk chunk;
      if (!(more = read_chunk(in, options.chunk_bytes, carry, chunk))) continue;
      chunk.seq = next_seq++;
      chunk.first_line = lines + 1;
      lines += static_cast<std::uint64_t>(std::count(chunk.text.begin(), chunk.text.end(), '\n'));
      bytes += chunk.text.size();
      pool.push(std::move(chunk));
      continue;
    }
    if (written == next_seq) break;
    std::string result = pool.take(written++);
    out.write(result.data(), static_cast<std::streamsize>(result.size()));
    if (!out) fail_at(options.output_name, 0, "write error (disk full, or the reader closed the pipe?)");
    progress.update(bytes);
  }
  if (options.total_bytes) progress.finish();  // with no total, finish() would report 0 bytes
  return lines;
}

}  // namespace bertforge::text
