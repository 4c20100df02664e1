// FolderLock: one holder at a time, named in the refusal; a dead holder's lock is taken over; released on exit.
#include "bertforge/util/folder_lock.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "bertforge/util/error.h"

namespace fs = std::filesystem;
using bertforge::FolderLock;

namespace {
fs::path fresh_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("bf_lock_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}
}  // namespace

TEST(FolderLock, SecondHolderIsRefusedNamingTheFirst) {
  auto dir = fresh_dir("second");
  {
    FolderLock first(dir.string());
    try {
      FolderLock second(dir.string());
      FAIL() << "two holders";
    } catch (const bertforge::Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(dir.string() + ": in use by pid " + std::to_string(::getpid()) + " on host " +
                          bertforge::host_name()), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos);
    }
  }
  EXPECT_FALSE(fs::exists(dir / "bertforge.lock"));  // released
  FolderLock again(dir.string());
  EXPECT_TRUE(again.took_over().empty());
}

TEST(FolderLock, LockOfADeadProcessOnThisHostIsTakenOver) {
  auto dir = fresh_dir("stale");
  const pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);  // a pid that no longer runs
  { std::ofstream(dir / "bertforge.lock") << child << " " << bertforge::host_name() << "\n"; }
  FolderLock lock(dir.string());
  EXPECT_EQ(lock.took_over(), "pid " + std::to_string(child) + " on host " + bertforge::host_name());
  std::ifstream in(dir / "bertforge.lock");
  long pid = 0;
  in >> pid;
  EXPECT_EQ(pid, ::getpid());
}

TEST(FolderLock, LockNamingAnotherHostIsRefused) {
  auto dir = fresh_dir("host");
  { std::ofstream(dir / "bertforge.lock") << "4242 some-other-node\n"; }
  try {
    FolderLock lock(dir.string());
    FAIL();
  } catch (const bertforge::Error& e) {
    EXPECT_NE(std::string(e.what()).find("pid 4242 on host some-other-node"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("delete " + (dir / "bertforge.lock").string()), std::string::npos);
  }
}
