// One process at a time in a folder: the lock that keeps two runs from interleaving their logs and replacing
// each other's checkpoints in one output_dir.
//
//   FolderLock lock(output_dir);   // or throws Error: "<dir>: in use by pid P on host H (...)"
//
// The lock is an flock(2) on <dir>/bertforge.lock, a file that names the holder ("pid host"). The kernel drops
// an flock when its process dies, even by kill -9, so a lock left by a dead process on this host is taken
// over (took_over() names it, for the log). A lock file that names another host is refused even when the flock
// is free, since a file system may not share flocks between hosts and that run may be alive: the error says
// to delete the file if that run is gone. Released (the file removed) when the FolderLock is destroyed.
#pragma once
#include <string>

namespace bertforge {

class FolderLock {
 public:
  explicit FolderLock(const std::string& dir);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

  const std::string& path() const { return path_; }
  // "pid 123 on host h" when the lock of a process that no longer runs was taken over, else empty.
  const std::string& took_over() const { return took_over_; }

 private:
  std::string path_, took_over_;
  int fd_ = -1;
};

// This machine's host name, as lock files record it.
std::string host_name();

}  // namespace bertforge
