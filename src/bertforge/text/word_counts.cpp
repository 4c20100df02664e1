#include "bertforge/text/word_counts.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <limits>
#include <mutex>
#include <thread>

#include "bertforge/text/basic_tokenizer.h"
#include "bertforge/text/utf8.h"
#include "bertforge/util/error.h"
#include "bertforge/util/progress.h"
#include "bertforge/util/threads.h"

namespace bertforge::text {

namespace {

constexpr std::size_t kBlockBytes = 1 << 20;

// A run of whole lines from one file.
struct Block {
  std::size_t seq, file;
  std::uint64_t first_line;
  std::string text;
};

// The reader waits when it is this far ahead of the workers, so memory stays bounded.
class BlockQueue {
 public:
  explicit BlockQueue(std::size_t capacity) : capacity_(capacity) {}
  void push(Block b) {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [&] { return blocks_.size() < capacity_; });
    blocks_.push_back(std::move(b));
    not_empty_.notify_one();
  }
  bool pop(Block& b) {  // false once closed and drained
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [&] { return !blocks_.empty() || closed_; });
    if (blocks_.empty()) return false;
    b = std::move(blocks_.front());
    blocks_.pop_front();
    not_full_.notify_one();
    return true;
  }
  void close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
  }

 private:
  std::size_t capacity_;
  std::deque<Block> blocks_;
  bool closed_ = false;
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
};

// The earliest failing block wins, so the error names the first bad line whatever the thread timing.
struct FirstFailure {
  std::atomic<std::size_t> seq{std::numeric_limits<std::size_t>::max()};
  std::string what;
  std::mutex mu;
  void record(std::size_t at, const std::string& message) {
    std::lock_guard<std::mutex> lock(mu);
    if (at < seq) {
      seq = at;
      what = message;
    }
  }
};

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

void count_block(const Block& block, const std::string& path, const BasicTokenizer& splitter,
                 const CountOptions& o, WordCounts& counts) {
  std::string_view text = block.text;
  std::uint64_t line = block.first_line;
  Words words;
  std::string key;
  for (std::size_t pos = 0; pos < text.size(); ++line) {
    std::size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view l = text.substr(pos, end - pos);
    pos = end + 1;
    if (!sample_keeps(o.sample, o.seed, block.file, line)) continue;
    // BasicTokenizer reads ill-formed bytes as U+FFFD, which is what errors='replace' asks for.
    if (o.errors == Utf8Errors::strict) check_utf8(l, path, line);
    words.clear();
    splitter.split(l, words);
    for (std::size_t i = 0; i < words.size(); ++i) {
      key.assign(words[i]);  // reuses key's buffer: no allocation for a word already counted
      if (auto it = counts.find(key); it != counts.end())
        ++it->second;
      else
        counts.emplace(key, 1);
    }
  }
}

// Cuts each file into blocks of whole lines (a line longer than a block makes a longer block).
void read_blocks(const std::vector<std::string>& files, BlockQueue& queue, const FirstFailure& failure) {
  std::size_t seq = 0;
  for (std::size_t f = 0; f < files.size(); ++f) {
    std::ifstream in(files[f], std::ios::binary);
    if (!in) fail_at(files[f], 0, std::string("cannot read: ") + std::strerror(errno));
    std::uint64_t line = 1;
    std::string carry;
    bool eof = false;
    while (!eof && failure.seq == std::numeric_limits<std::size_t>::max()) {
      std::string buf = std::move(carry);
      carry.clear();
      std::size_t old = buf.size();
      buf.resize(old + kBlockBytes);
      in.read(&buf[old], kBlockBytes);
      buf.resize(old + static_cast<std::size_t>(in.gcount()));
      if (in.bad()) fail_at(files[f], line, std::string("read failed: ") + std::strerror(errno));
      eof = in.eof();
      if (!eof) {
        std::size_t nl = buf.rfind('\n');
        if (nl == std::string::npos) {
          carry = std::move(buf);
          continue;
        }
        carry = buf.substr(nl + 1);
        buf.resize(nl + 1);
      }
      if (buf.empty()) break;
      std::uint64_t lines = std::count(buf.begin(), buf.end(), '\n');
      queue.push({seq++, f, line, std::move(buf)});
      line += lines;
    }
  }
}

std::uint64_t total_bytes(const std::vector<std::string>& files) {
  std::uint64_t total = 0;
  for (const auto& f : files) {
    struct stat st;
    if (::stat(f.c_str(), &st) != 0) fail_at(f, 0, std::string("cannot read: ") + std::strerror(errno));
    total += static_cast<std::uint64_t>(st.st_size);
  }
  return total;
}

}  // namespace

bool sample_keeps(double sample, std::uint64_t seed, std::size_t file, std::uint64_t line) {
  if (sample >= 1) return true;
  std::uint64_t h = splitmix64(seed ^ splitmix64((static_cast<std::uint64_t>(file) << 40) ^ line));
  return static_cast<double>(h >> 11) * 0x1.0p-53 < sample;
}

WordCounts count_words(const std::vector<std::string>& files, const BasicTokenizer& splitter,
                       const CountOptions& o) {
  if (!(o.sample > 0 && o.sample <= 1)) throw Error("sample must be in (0, 1], got " + std::to_string(o.sample));
  int n = o.threads > 0 ? o.threads : num_threads();
  Progress progress("count words", total_bytes(files), "MB", 1e-6);
  BlockQueue queue(2 * static_cast<std::size_t>(n));
  FirstFailure failure;
  std::atomic<std::uint64_t> done{0};
  std::vector<WordCounts> counts(n);
  std::vector<std::thread> workers;
  for (int t = 0; t < n; ++t)
    workers.emplace_back([&, t] {
      Block block;
      while (queue.pop(block)) {
        if (block.seq > failure.seq) continue;  // past an error: drain without work
        try {
          count_block(block, files[block.file], splitter, o, counts[t]);
        } catch (const std::exception& e) {
          failure.record(block.seq, e.what());
        }
        progress.update(done += block.text.size());
      }
    });
  try {
    read_blocks(files, queue, failure);
  } catch (...) {
    queue.close();
    for (auto& w : workers) w.join();
    throw;
  }
  queue.close();
  for (auto& w : workers) w.join();
  if (!failure.what.empty()) throw Error(failure.what);
  progress.finish();
  auto largest = std::max_element(counts.begin(), counts.end(),
                                  [](const auto& a, const auto& b) { return a.size() < b.size(); });
  WordCounts total = std::move(*largest);
  largest->clear();
  for (auto& c : counts)
    for (auto& [word, k] : c) total[word] += k;
  return total;
}

}  // namespace bertforge::text
