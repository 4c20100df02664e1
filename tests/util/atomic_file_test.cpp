#include "bertforge/util/atomic_file.h"
#include "bertforge/util/atomic_folder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "bertforge/util/error.h"
#include "bertforge/util/progress.h"

namespace fs = std::filesystem;
using bertforge::AtomicFile;

namespace {
std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path fresh_dir() {
  auto dir = fs::temp_directory_path() / ("bf_atomic_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                          ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}
}  // namespace

TEST(AtomicFile, CommitReplacesDestination) {
  auto dir = fresh_dir();
  auto path = (dir / "out.txt").string();
  { std::ofstream(path) << "old"; }
  {
    AtomicFile f(path);
    f.stream() << "new";
    EXPECT_EQ(slurp(path), "old");  // not visible before commit
    f.commit();
  }
  EXPECT_EQ(slurp(path), "new");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1);
}

TEST(AtomicFile, AbandonedWriteLeavesDestinationAndNoTemp) {
  auto dir = fresh_dir();
  auto path = (dir / "out.txt").string();
  { std::ofstream(path) << "old"; }
  {
    AtomicFile f(path);
    f.stream() << "partial";
  }
  EXPECT_EQ(slurp(path), "old");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1);
}

TEST(AtomicFile, UnwritableFolderIsAClearError) {
  try {
    AtomicFile f("/nonexistent-dir/x.txt");
    FAIL() << "expected an error";
  } catch (const bertforge::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.txt"), std::string::npos);
  }
}

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(bertforge::format_duration(5), "5s");
  EXPECT_EQ(bertforge::format_duration(185), "3m05s");
  EXPECT_EQ(bertforge::format_duration(3720), "1h02m");
}

TEST(AtomicFolder, SwapsInWholeOnlyOnCommit) {
  auto dir = fresh_dir();
  auto dest = (dir / "data").string();
  fs::create_directories(dest);
  { std::ofstream(dest + "/old.txt") << "old"; }
  {
    bertforge::AtomicFolder f(dest);
    { std::ofstream(f.path() + "/new.txt") << "new"; }
    EXPECT_TRUE(fs::exists(dest + "/old.txt"));  // untouched before commit
    f.commit();
  }
  EXPECT_FALSE(fs::exists(dest + "/old.txt"));
  EXPECT_EQ(slurp(dest + "/new.txt"), "new");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1);  // no temporary left
}

TEST(AtomicFolder, AbandonedBuildLeavesTheOldFolderAndNoTemp) {
  auto dir = fresh_dir();
  auto dest = (dir / "data").string();
  fs::create_directories(dest);
  { std::ofstream(dest + "/old.txt") << "old"; }
  fs::create_directories(dest + ".tmp-999999999");  // left by a killed process that no longer runs
  try {
    bertforge::AtomicFolder f(dest);
    { std::ofstream(f.path() + "/new.txt") << "new"; }
    throw bertforge::Error("input line 3: bad");
  } catch (const bertforge::Error&) {
  }
  EXPECT_EQ(slurp(dest + "/old.txt"), "old");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1);
}

TEST(AtomicFolder, BuildErrorsNameTheDestinationNotTheTemporaryFolder) {
  auto dir = fresh_dir();
  auto dest = (dir / "data").string();
  auto failing = [&] {
    try {
      bertforge::AtomicFolder(dest).build(
          [](const std::string& tmp) { bertforge::fail_at(tmp + "/shard-00000.bin", 0, "write failed (disk full?)"); });
    } catch (const bertforge::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(failing(), dest + "/shard-00000.bin: write failed (disk full?)");  // nothing there before
  fs::create_directories(dest);
  { std::ofstream(dest + "/old.txt") << "old"; }
  EXPECT_EQ(failing(), dest + "/shard-00000.bin: write failed (disk full?); " + dest + " is left as it was");
  EXPECT_EQ(slurp(dest + "/old.txt"), "old");
  bertforge::AtomicFolder(dest).build([](const std::string& tmp) { std::ofstream(tmp + "/new.txt") << "new"; });
  EXPECT_EQ(slurp(dest + "/new.txt"), "new");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1);
  // A name holding a newline: the message shows it escaped, the destination's still.
  dest = (dir / "two\nlines").string();
  EXPECT_EQ(failing(), (dir / "two\\nlines").string() + "/shard-00000.bin: write failed (disk full?)");
}

TEST(AtomicFolder, ReplacesOnlyItsOwnKindAndOnlyWhenAsked) {
  auto dir = fresh_dir();
  auto dest = (dir / "data").string();
  bertforge::check_replaceable(dest, "manifest.json", "a prepared dataset", false, "--overwrite");  // absent
  fs::create_directories(dest);
  bertforge::check_replaceable(dest, "manifest.json", "a prepared dataset", false, "--overwrite");  // empty
  { std::ofstream(dest + "/manifest.json") << "{}"; }
  EXPECT_NO_THROW(bertforge::check_replaceable(dest, "manifest.json", "a prepared dataset", true, "--overwrite"));
  try {
    bertforge::check_replaceable(dest, "manifest.json", "a prepared dataset", false, "--overwrite");
    FAIL();
  } catch (const bertforge::Error& e) {
    EXPECT_EQ(std::string(e.what()), dest + ": already holds a prepared dataset (give --overwrite to replace it)");
  }
  fs::remove(dest + "/manifest.json");
  { std::ofstream(dest + "/mine.txt") << "x"; }
  EXPECT_THROW(bertforge::check_replaceable(dest, "manifest.json", "a prepared dataset", true, "--overwrite"),
               bertforge::Error);
}
