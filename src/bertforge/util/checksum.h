// File integrity: CRC-32 as zlib computes it (the same value as Python's zlib.crc32 and the cksum of gzip),
// recorded beside each file a dataset or checkpoint holds and checked when they are opened.
//
// Why zlib's CRC-32: it is already linked (PNG output), zlib 1.2.12+ computes it "braided" at several bytes a
// cycle, so a check costs about as much as reading the file once more from the page cache, and Python's zlib
// module is an independent oracle for the tests. It guards against flipped bytes and torn copies, not tampering.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace bertforge {

std::uint32_t crc32_bytes(const void* data, std::size_t size, std::uint32_t crc = 0);
// The CRC-32 of a whole file; Error naming the file when it cannot be read.
std::uint32_t crc32_file(const std::string& path);

}  // namespace bertforge
