#include "bertforge/util/checksum.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "bertforge/util/error.h"

namespace bertforge {

std::uint32_t crc32_bytes(const void* data, std::size_t size, std::uint32_t crc) {
  return static_cast<std::uint32_t>(crc32_z(crc, static_cast<const Bytef*>(data), size));
}

std::uint32_t crc32_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_at(path, 0, std::string("cannot read: ") + std::strerror(errno));
  std::vector<char> buf(std::size_t(4) << 20);
  std::uint32_t crc = 0;
  ssize_t n;
  while ((n = ::read(fd, buf.data(), buf.size())) > 0) crc = crc32_bytes(buf.data(), static_cast<std::size_t>(n), crc);
  const int err = errno;
  ::close(fd);
  if (n < 0) fail_at(path, 0, std::string("read error: ") + std::strerror(err));
  return crc;
}

}  // namespace bertforge
