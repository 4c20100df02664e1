#include "bertforge/util/atomic_folder.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "bertforge/util/atomic_file.h"
#include "bertforge/util/error.h"
#include "bertforge/util/strings.h"

namespace bertforge {

namespace {
void fsync_one(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) fail_at(path, 0, std::string("cannot open for sync: ") + std::strerror(errno));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) fail_at(path, 0, "fsync failed (disk full?)");
}

// Folders "<dest>.tmp-<pid>" left by a killed AtomicFolder: their process is gone.
void remove_stale_temps(const std::filesystem::path& dest) {
  namespace fs = std::filesystem;
  const std::string prefix = dest.filename().string() + ".tmp-";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dest.parent_path().empty() ? "." : dest.parent_path(), ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string pid = name.substr(prefix.size());
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (::kill(static_cast<pid_t>(std::stol(pid)), 0) != 0 && errno == ESRCH) fs::remove_all(e.path(), ec);
  }
}
}  // namespace

void fsync_tree(const std::string& folder) {
  for (const auto& entry : std::filesystem::recursive_directory_iterator(folder))
    fsync_one(entry.path().string(), entry.is_directory());
  fsync_one(folder, true);
}

AtomicFolder::AtomicFolder(std::string destination) : dest_(std::move(destination)) {
  namespace fs = std::filesystem;
  while (dest_.size() > 1 && dest_.back() == '/') dest_.pop_back();
  temp_ = dest_ + ".tmp-" + std::to_string(::getpid());
  remove_stale_temps(fs::path(dest_));
  std::error_code ec;
  fs::remove_all(temp_, ec);
  fs::create_directories(temp_, ec);
  if (ec) fail_at(temp_, 0, "cannot create folder: " + ec.message());
}

AtomicFolder::~AtomicFolder() {
  std::error_code ec;
  if (!committed_) std::filesystem::remove_all(temp_, ec);
}

void check_replaceable(const std::string& dest, const std::string& marker, const std::string& what, bool overwrite,
                       const std::string& option) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dest, ec)) return;
  if (!fs::is_directory(dest, ec)) fail_at(dest, 0, "exists and is not a folder (choose another output)");
  if (fs::is_empty(dest, ec)) return;
  if (!fs::exists(fs::path(dest) / marker, ec))
    fail_at(dest, 0, "holds files and is not " + what + "; it is never replaced (choose another output)");
  if (!overwrite) fail_at(dest, 0, "already holds " + what + " (give " + option + " to replace it)");
}

void AtomicFolder::commit() {
  namespace fs = std::filesystem;
  fsync_tree(temp_);
  std::error_code ec;
  if (!fs::exists(dest_)) {
    durable_rename(temp_, dest_);
    committed_ = true;
    return;
  }
  // One atomic exchange: at every instant the destination holds the old folder or the new one, never neither.
  if (::renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, dest_.c_str(), RENAME_EXCHANGE) != 0) {
    if (errno != EINVAL && errno != ENOSYS) fail_at(dest_, 0, std::string("cannot replace: ") + std::strerror(errno));
    // A file system without exchange: two renames; a kill between them leaves the old folder at <dest>.old-<pid>.
    const std::string old = dest_ + ".old-" + std::to_string(::getpid());
    fs::remove_all(old, ec);
    if (std::rename(dest_.c_str(), old.c_str()) != 0) fail_at(dest_, 0, std::string("cannot replace: ") + std::strerror(errno));
    if (std::rename(temp_.c_str(), dest_.c_str()) != 0) {
      const int err = errno;
      std::rename(old.c_str(), dest_.c_str());
      fail_at(dest_, 0, std::string("cannot replace: ") + std::strerror(err));
    }
    fs::rename(old, temp_, ec);
  }
  fsync_one(fs::absolute(dest_).parent_path().string(), true);
  committed_ = true;
  fs::remove_all(temp_, ec);  // the old folder, now under the temporary name
}

void AtomicFolder::build(const std::function<void(const std::string& folder)>& write) {
  try {
    write(temp_);
    commit();
  } catch (const Error& e) {
    std::string what = e.what();
    replace_all(what, escape_controls(temp_), escape_controls(dest_));  // as the message shows the paths
    std::error_code ec;
    throw Error(std::filesystem::exists(dest_, ec) ? what + "; " + dest_ + " is left as it was" : what);
  }
}

}  // namespace bertforge
