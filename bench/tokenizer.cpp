// bench_tokenizer: in-process tokenizer throughput, without I/O: the input file is read into memory as lines,
// then encoded `repeat` times on T threads (each thread a contiguous share of the lines, with its own
// buffers). Prints one JSON line: {"threads": T, "mb": input MB, "seconds": best of `repeat`, "mb_per_s": ...,
// "ids": total ids}.
//
//   bench_tokenizer VOCAB INPUT [--threads T] [--lower-case] [--repeat R]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bertforge/text/tokenizer.h"

using namespace bertforge::text;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_tokenizer VOCAB INPUT [--threads T] [--lower-case] [--repeat R]\n");
    return 2;
  }
  int threads = 1, repeat = 3;
  TokenizerOptions options;
  for (int i = 3; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = std::atoi(argv[++i]);
    if (!std::strcmp(argv[i], "--lower-case")) options.lower_case = true;
  }
  Tokenizer tok = Tokenizer::from_pretrained(argv[1], options);
  std::ifstream in(argv[2], std::ios::binary);
  std::vector<std::string> lines;
  std::size_t bytes = 0;
  for (std::string line; std::getline(in, line);) {
    bytes += line.size() + 1;
    lines.push_back(std::move(line));
  }
  double best = 1e30;
  std::size_t total_ids = 0;
  for (int r = 0; r < repeat; ++r) {
    std::vector<std::size_t> counts(threads);
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        std::vector<std::int32_t> ids;
        Words words;
        std::size_t begin = lines.size() * t / threads, end = lines.size() * (t + 1) / threads;
        for (std::size_t i = begin; i < end; ++i) {
          ids.clear();
          tok.encode_into(lines[i], ids, words);
          counts[t] += ids.size();
        }
      });
    }
    for (auto& th : pool) th.join();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    total_ids = 0;
    for (auto c : counts) total_ids += c;
  }
  std::printf("{\"threads\": %d, \"mb\": %.3f, \"seconds\": %.4f, \"mb_per_s\": %.2f, \"ids\": %zu}\n", threads,
              bytes / 1e6, best, bytes / 1e6 / best, total_ids);
  return 0;
}
