// Write-then-swap output folders (datasets, exports): the folder counterpart of util/atomic_file.h.
#pragma once
#include <functional>
#include <string>

namespace bertforge {

// Every file in `folder` and the folder itself reach the disk.
void fsync_tree(const std::string& folder);

// A folder built under a temporary name beside its destination and swapped in whole:
//   AtomicFolder out("prepared");   // creates prepared.tmp-<pid>, empty
//   ... write files under out.path() ...
//   out.commit();                   // fsync the tree, exchange it with the destination in one rename, then
//                                   // delete the old folder (or just rename when there was none)
// or out.build(write) for both steps.
// Until commit() the destination is untouched; destroyed without commit() (an exception, a full disk, an early
// return) the temporary folder is removed. A kill -9 leaves at most a <dest>.tmp-<pid> folder, which the next
// AtomicFolder for that destination removes when no live process of that pid holds it.
class AtomicFolder {
 public:
  explicit AtomicFolder(std::string destination);
  ~AtomicFolder();
  AtomicFolder(const AtomicFolder&) = delete;
  AtomicFolder& operator=(const AtomicFolder&) = delete;

  const std::string& path() const { return temp_; }
  void commit();
  // write(path()), then commit(). An Error on the way names files as the user knows them, under the
  // destination, not the temporary folder that is gone by the time it is read, and says that an existing
  // destination is untouched: "<dest>/shard-00000.bin: write failed (disk full?); <dest> is left as it was".
  void build(const std::function<void(const std::string& folder)>& write);

 private:
  std::string dest_, temp_;
  bool committed_ = false;
};

// Whether an AtomicFolder may replace `dest`: it is absent or empty; or it holds `marker` (the file that makes
// it one of ours, such as manifest.json) and `overwrite` is set. Otherwise an Error naming the folder: "already
// holds <what> (give <option> to replace it)", or, without the marker, that it is not <what> and is never
// replaced. Call it before reading any input, so a refused run has done nothing.
void check_replaceable(const std::string& dest, const std::string& marker, const std::string& what, bool overwrite,
                       const std::string& option);

}  // namespace bertforge
