// Write-then-rename output files: a reader never sees a partial file, and a failed or interrupted write
// leaves whatever was at the destination before untouched.
//
//   AtomicFile out("vocab.txt");
//   out.stream() << ...;
//   out.commit();          // flush, fsync, rename over the destination; throws Error on any I/O failure
// Destroyed without commit() (an exception, an early return) the temporary file is removed.
#pragma once
#include <fstream>
#include <string>

namespace bertforge {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path, std::ios::openmode mode = std::ios::out | std::ios::binary);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ofstream& stream() { return out_; }
  void commit();

 private:
  std::string path_, temp_;
  std::ofstream out_;
  bool committed_ = false;
};

// Renames `from` over `to` after fsyncing `from`, then fsyncs the parent folder so the rename is durable.
void durable_rename(const std::string& from, const std::string& to);

}  // namespace bertforge
