// `bertforge prepare` as a process under faults: kill -9 at random instants (several seeds), also of a run
// replacing a finished dataset (--overwrite), leaves either no folder or the whole dataset, and running prepare
// again gives the same bytes as a run that was never interrupted, with no temporary folder left beside it; a
// full disk (RLIMIT_FSIZE) ends in a one-line error naming the file and leaves nothing.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "bertforge/data/shard.h"
#include "bertforge/util/error.h"
#include "common/paths.h"
#include "common/process.h"

namespace fs = std::filesystem;
using namespace bertforge;
using namespace bertforge::testing;

namespace {

struct Corpus {
  fs::path root;
  std::string text, vocab;
};

// A vocabulary of 60 words and about 3 MB of sentences over them (a second or more of prepare work).
Corpus make_corpus(const std::string& name) {
  Corpus c{fs::temp_directory_path() / ("bf_prepare_" + name), "", ""};
  fs::remove_all(c.root);
  fs::create_directories(c.root);
  c.vocab = (c.root / "vocab.txt").string();
  c.text = (c.root / "corpus.txt").string();
  std::ofstream v(c.vocab);
  v << "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n.\n";
  std::vector<std::string> words;
  for (int i = 0; i < 60; ++i) words.push_back("w" + std::to_string(i));
  for (const auto& w : words) v << w << "\n";
  std::ofstream t(c.text);
  std::mt19937 gen(5);
  for (int doc = 0; doc < 3000; ++doc) {  // a sentence per line (--sentence-split none), blank-line documents
    for (int sentence = 0; sentence < 12; ++sentence) {
      for (int w = 0; w < 12; ++w) t << (w ? " " : "") << words[gen() % words.size()];
      t << " .\n";
    }
    t << "\n";
  }
  return c;
}

Process start_prepare(const Corpus& c, const fs::path& out, std::uint64_t max_file_bytes = 0) {
  return start({bertforge_bin(), "prepare", c.text, "--vocab", c.vocab, "--threads", "2", "--max_seq_length", "64",
                "--sentence-split", "none", "--chunk-mb", "0.25", "--overwrite", "-o", out.string()},
               {}, out.string() + ".log", max_file_bytes);
}

// The folders prepare builds beside `out` (out.tmp-<pid>) that are still there.
std::vector<std::string> temporaries_beside(const fs::path& out) {
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator(out.parent_path()))
    if (e.path().filename().string().rfind(out.filename().string() + ".tmp-", 0) == 0) found.push_back(e.path());
  return found;
}

int wait_exit(const Process& p) {
  auto status = wait_for(p, std::chrono::minutes(10));
  EXPECT_TRUE(status) << p.log << " ran past its deadline";
  if (!status) return -1;
  return WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
}

std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Every file of a finished prepared folder, byte for byte.
void expect_same_folder(const fs::path& got, const fs::path& want) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(want)) names.push_back(e.path().filename().string());
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(got)) files += e.is_regular_file();
  EXPECT_EQ(files, names.size()) << got;
  for (const auto& n : names) EXPECT_TRUE(bytes_of(got / n) == bytes_of(want / n)) << got / n << " differs";
}

}  // namespace

TEST(PrepareProcess, KillNineAtRandomInstantsThenRunAgainGivesTheSameDataset) {
  Corpus c = make_corpus("kill9");
  const fs::path want = c.root / "straight";
  const auto began = std::chrono::steady_clock::now();
  ASSERT_EQ(wait_exit(start_prepare(c, want)), 0) << read_file(want.string() + ".log");
  // Kill instants spread over the time an uninterrupted run takes here, whatever the machine or build.
  const int run_ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began).count());
  for (unsigned seed : {1u, 2u, 3u}) {
    std::mt19937 gen(seed);
    const fs::path out = c.root / ("killed-" + std::to_string(seed));
    for (int kill_round = 0; kill_round < 3; ++kill_round) {
      Process p = start_prepare(c, out);
      std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<>(0, run_ms)(gen)));
      kill(p.pid, SIGKILL);
      wait_exit(p);
      // No folder yet, or the whole dataset (the first one, or its replacement): never a half one.
      EXPECT_EQ(fs::exists(out), fs::exists(out / "manifest.json"));
      if (fs::exists(out)) {
        expect_same_folder(out, want);
        data::ShardSet opened(out.string());
        EXPECT_GT(opened.size(), 0u);
      }
    }
    // The next run removes what the killed ones left beside the folder.
    ASSERT_EQ(wait_exit(start_prepare(c, out)), 0) << read_file(out.string() + ".log");
    expect_same_folder(out, want);
    EXPECT_EQ(temporaries_beside(out), std::vector<std::string>{});
  }
  fs::remove_all(c.root);
}

TEST(PrepareProcess, FullDiskEndsInOneLineNamingTheFile) {
  Corpus c = make_corpus("full");
  const fs::path out = c.root / "out";
  // 64 KB per file: the first shard outgrows it (the manifest never does). It is written in the folder being
  // built beside `out`, which is gone when the error is read, so the file is named as the user knows it.
  EXPECT_EQ(wait_exit(start_prepare(c, out, 64 << 10)), 1);
  std::string log = read_file(out.string() + ".log");
  std::string last = log.substr(log.rfind('\n', log.size() - 2) + 1);
  EXPECT_NE(last.find(out.string() + "/shard-00000.bin: write failed (disk full?)"), std::string::npos) << log;
  EXPECT_EQ(last.find(".tmp-"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(out));  // nothing that looks finished, nothing half-written
  EXPECT_EQ(temporaries_beside(out), std::vector<std::string>{});
  fs::remove_all(c.root);
}
