#include "bertforge/text/tokenize_stream.h"

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "bertforge/text/utf8.h"
#include "bertforge/util/error.h"
#include "bertforge/util/progress.h"

namespace bertforge::text {

namespace {

struct Chunk {
  std::uint64_t seq = 0, first_line = 0;  // first_line is 1-based
  std::string text;                       // whole lines, each ending in '\n'
};

// Encodes every line of chunk.text into one output line each.
std::string encode_chunk(const Tokenizer& tok, const Chunk& chunk, const std::string& input_name,
                         const TokenizeStreamOptions& options) {
  std::string out, fixed;
  out.reserve(chunk.text.size());
  std::vector<std::int32_t> ids;
  Words words;
  std::string_view rest(chunk.text);
  for (std::uint64_t line = chunk.first_line; !rest.empty(); ++line) {
    std::size_t nl = rest.find('\n');
    std::string_view text = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    if (find_invalid_utf8(text) != std::string_view::npos) {
      if (!options.replace_errors) check_utf8(text, input_name, line);
      fixed = replace_invalid_utf8(text);
      text = fixed;
    }
    ids.clear();
    tok.encode_into(text, ids, words);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (i) out += ' ';
      if (options.tokens) {
        out += tok.id_to_token(ids[i]);
      } else {
        char buf[16];
        out.append(buf, std::to_chars(buf, buf + sizeof buf, ids[i]).ptr);
      }
    }
    out += '\n';
  }
  return out;
}

// Reads about chunk_bytes of whole lines (the last line gains a '\n' if the input lacks one).
bool read_chunk(std::istream& in, std::size_t chunk_bytes, std::string& carry, Chunk& chunk) {
  chunk.text = std::move(carry);
  carry.clear();
  std::size_t old = chunk.text.size();
  chunk.text.resize(old + chunk_bytes);
  in.read(&chunk.text[old], static_cast<std::streamsize>(chunk_bytes));
  chunk.text.resize(old + static_cast<std::size_t>(in.gcount()));
  if (in.bad()) throw Error("read error on the input");
  if (chunk.text.empty()) return false;
  std::size_t last_nl = chunk.text.rfind('\n');
  if (in.eof()) {
    if (chunk.text.back() != '\n') chunk.text += '\n';
  } else if (last_nl == std::string::npos) {  // a line longer than a chunk: keep reading it
    carry = std::move(chunk.text);
    return read_chunk(in, chunk_bytes, carry, chunk);
  } else {
    carry.assign(chunk.text, last_nl + 1, std::string::npos);
    chunk.text.resize(last_nl + 1);
  }
  return true;
}

}  // namespace

std::uint64_t tokenize_stream(const Tokenizer& tok, std::istream& in, const std::string& input_name,
                              std::ostream& out, const TokenizeStreamOptions& options) {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Chunk> todo;
  std::map<std::uint64_t, std::string> done;
  bool closing = false;
  std::exception_ptr error;

  auto work = [&] {
    for (;;) {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return !todo.empty() || closing; });
      if (todo.empty() || error) return;
      Chunk chunk = std::move(todo.front());
      todo.pop_front();
      lock.unlock();
      std::string result;
      try {
        result = encode_chunk(tok, chunk, input_name, options);
      } catch (...) {
        lock.lock();
        if (!error) error = std::current_exception();
        cv.notify_all();
        return;
      }
      lock.lock();
      done.emplace(chunk.seq, std::move(result));
      cv.notify_all();
    }
  };
  const int workers = std::max(1, options.threads);
  std::vector<std::thread> pool;
  for (int i = 0; i < workers; ++i) pool.emplace_back(work);

  Progress progress("tokenize", options.total_bytes, "MB", 1e-6);
  std::uint64_t next_seq = 0, written = 0, lines = 0, bytes = 0;
  std::string carry;
  bool more = true;
  try {
    for (;;) {
      if (more && next_seq - written < static_cast<std::uint64_t>(2 * workers)) {
        Chunk chunk;
        if (!(more = read_chunk(in, options.chunk_bytes, carry, chunk))) continue;
        chunk.seq = next_seq++;
        chunk.first_line = lines + 1;
        lines += static_cast<std::uint64_t>(std::count(chunk.text.begin(), chunk.text.end(), '\n'));
        bytes += chunk.text.size();
        std::lock_guard<std::mutex> lock(mu);
        todo.push_back(std::move(chunk));
        cv.notify_all();
        continue;
      }
      if (written == next_seq) break;
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return error || done.count(written); });
      if (error) break;
      std::string result = std::move(done[written]);
      done.erase(written++);
      lock.unlock();
      out.write(result.data(), static_cast<std::streamsize>(result.size()));
      if (!out) throw Error("write error on the output");
      progress.update(bytes);
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mu);
    if (!error) error = std::current_exception();
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    closing = true;
    cv.notify_all();
  }
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  if (options.total_bytes) progress.finish();  // with no total, finish() would report 0 bytes
  return lines;
}

}  // namespace bertforge::text
