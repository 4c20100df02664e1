#include "bertforge/util/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "bertforge/util/error.h"

namespace bertforge {

namespace {
void fsync_path(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) fail_at(path, 0, std::string("cannot open for sync: ") + std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) fail_at(path, 0, std::string("fsync failed: ") + std::strerror(err));
}
}  // namespace

AtomicFile::AtomicFile(std::string path, std::ios::openmode mode)
    : path_(std::move(path)), temp_(path_ + ".tmp." + std::to_string(::getpid())) {
  out_.open(temp_, mode | std::ios::trunc);
  if (!out_) fail_at(path_, 0, std::string("cannot write: ") + std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    out_.close();
    std::remove(temp_.c_str());
  }
}

void AtomicFile::commit() {
  out_.flush();
  if (!out_) fail_at(path_, 0, "write failed (disk full?)");
  out_.close();
  if (out_.fail()) fail_at(path_, 0, "close failed (disk full?)");
  durable_rename(temp_, path_);
  committed_ = true;
}

void durable_rename(const std::string& from, const std::string& to) {
  fsync_path(from, O_RDONLY);
  if (std::rename(from.c_str(), to.c_str()) != 0)
    fail_at(to, 0, std::string("cannot rename ") + from + ": " + std::strerror(errno));
  auto parent = std::filesystem::absolute(to).parent_path();
  fsync_path(parent.string(), O_RDONLY | O_DIRECTORY);
}

}  // namespace bertforge
