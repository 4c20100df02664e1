// The counting pass: same counts as a plain sequential count whatever the thread count, sampling that depends
// only on the seed and line positions, and errors that name the first bad line.
#include "bertforge/text/word_counts.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "bertforge/text/basic_tokenizer.h"
#include "bertforge/util/error.h"
#include "bertforge/util/progress.h"

namespace fs = std::filesystem;
using namespace bertforge::text;

namespace {

fs::path temp_file(const std::string& name, const std::string& contents) {
  auto dir = fs::temp_directory_path() / "bf_word_counts";
  fs::create_directories(dir);
  auto path = dir / name;
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

// Over 2 MB, so it spans several 1 MB blocks: line i reads "w<i % 1000> common, x".
std::string many_lines(int n) {
  std::string s;
  for (int i = 1; i <= n; ++i) s += "w" + std::to_string(i % 1000) + " common, x\n";
  return s;
}

CountOptions with_threads(int threads) {
  bertforge::Progress::set_enabled(false);
  CountOptions o;
  o.threads = threads;
  return o;
}

}  // namespace

TEST(CountWords, CountsAcrossBlocksAndThreadsLikeASequentialCount) {
  auto path = temp_file("many.txt", many_lines(150000));
  BasicTokenizer basic;
  WordCounts expected;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    for (auto& w : basic.words(line)) ++expected[w];
  for (int threads : {1, 3}) EXPECT_EQ(count_words({path.string()}, basic, with_threads(threads)), expected);
  EXPECT_EQ(expected["common"], 150000u);
  EXPECT_EQ(expected[","], 150000u);
}

TEST(CountWords, SamplingDependsOnSeedAndLineNotThreads) {
  auto path = temp_file("lines.txt", [] {
    std::string s;
    for (int i = 1; i <= 20000; ++i) s += "line" + std::to_string(i) + "\n";
    return s;
  }());
  BasicTokenizer basic;
  auto o = with_threads(1);
  o.sample = 0.3;
  o.seed = 7;
  WordCounts one = count_words({path.string()}, basic, o);
  o.threads = 3;
  EXPECT_EQ(count_words({path.string()}, basic, o), one);
  WordCounts expected;
  for (int i = 1; i <= 20000; ++i)
    if (sample_keeps(0.3, 7, 0, i)) expected["line" + std::to_string(i)] = 1;
  EXPECT_EQ(one, expected);
  EXPECT_NEAR(static_cast<double>(one.size()) / 20000, 0.3, 0.02);
  o.seed = 8;
  EXPECT_NE(count_words({path.string()}, basic, o), one);
  o.sample = 0;
  EXPECT_THROW(count_words({path.string()}, basic, o), bertforge::Error);
}

TEST(CountWords, InvalidUtf8NamesTheFirstBadLineOrIsReplaced) {
  // Bad bytes at the start of line 100000 (a later block) and in line 3: the error names line 3 however the
  // blocks are shared out.
  std::string s = many_lines(120000);
  auto line_start = [&](int line) {
    std::size_t pos = 0;
    for (int i = 1; i < line; ++i) pos = s.find('\n', pos) + 1;
    return pos;
  };
  s.insert(line_start(100000), "\xFF");
  s.insert(line_start(3), "bad\xC3(");
  auto path = temp_file("bad.txt", s);
  BasicTokenizer basic;
  for (int threads : {1, 3}) {
    try {
      count_words({path.string()}, basic, with_threads(threads));
      ADD_FAILURE() << "no error";
    } catch (const bertforge::Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind(path.string() + ":3: invalid UTF-8 at byte 4", 0), 0u) << e.what();
    }
  }
  auto o = with_threads(2);
  o.errors = Utf8Errors::replace;
  WordCounts counts = count_words({path.string()}, basic, o);
  // Each bad sequence reads as U+FFFD, which text cleaning drops: "bad\xC3(w3" -> "bad", "(", "w3".
  EXPECT_EQ(counts["bad"], 1u);
  EXPECT_EQ(counts["("], 1u);
  EXPECT_EQ(counts["common"], 120000u);
}

TEST(CountWords, MissingFileIsNamed) {
  BasicTokenizer basic;
  try {
    count_words({"/nonexistent/corpus.txt"}, basic, with_threads(1));
    ADD_FAILURE() << "no error";
  } catch (const bertforge::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/corpus.txt"), std::string::npos);
  }
}
