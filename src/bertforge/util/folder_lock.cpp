#include "bertforge/util/folder_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "bertforge/util/error.h"

namespace bertforge {

namespace {
struct Holder {
  long pid = 0;
  std::string host;
  std::string text() const { return "pid " + std::to_string(pid) + " on host " + host; }
};

Holder read_holder(int fd) {
  char buf[512] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  Holder h;
  std::istringstream(std::string(buf, n > 0 ? n : 0)) >> h.pid >> h.host;
  return h;
}
}  // namespace

std::string host_name() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

FolderLock::FolderLock(const std::string& dir) : path_(dir + "/bertforge.lock") {
  const std::string other = "another bertforge run uses this folder: wait for it to end, or choose another output_dir";
  for (int attempt = 0; fd_ < 0; ++attempt) {
    int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) fail_at(path_, 0, std::string("cannot create lock file: ") + std::strerror(errno));
    const bool locked = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    const int err = errno;
    const Holder h = read_holder(fd);
    if (!locked && err == EWOULDBLOCK) {
      ::close(fd);
      fail_at(dir, 0, "in use by " + (h.pid ? h.text() : std::string("a process")) + " (" + other + ")");
    }
    if (!locked && err != ENOLCK && err != EOPNOTSUPP) {
      ::close(fd);
      fail_at(path_, 0, std::string("cannot lock: ") + std::strerror(err));
    }
    // The file may have been removed by its releasing holder between open and flock: then lock the new one.
    struct stat mine {}, now {};
    if (::fstat(fd, &mine) != 0 || ::stat(path_.c_str(), &now) != 0 || mine.st_ino != now.st_ino ||
        mine.st_dev != now.st_dev) {
      ::close(fd);
      if (attempt > 100) fail_at(path_, 0, "lock file keeps changing (" + other + ")");
      continue;
    }
    const bool alive_here = h.host == host_name() && h.pid > 0 && (::kill(h.pid, 0) == 0 || errno != ESRCH);
    if (h.pid && (h.host != host_name() || (!locked && alive_here))) {
      ::close(fd);
      fail_at(dir, 0, "in use by " + h.text() + " (" + other + "; if that run is gone, delete " + path_ + ")");
    }
    if (h.pid && h.pid != ::getpid()) took_over_ = h.text();
    const std::string me = std::to_string(::getpid()) + " " + host_name() + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) != static_cast<ssize_t>(me.size())) {
      ::close(fd);
      fail_at(path_, 0, "cannot write lock file (disk full?)");
    }
    fd_ = fd;
  }
}

FolderLock::~FolderLock() {
  ::unlink(path_.c_str());  // while still holding it, so no one locks the file being removed
  ::close(fd_);
}

}  // namespace bertforge
