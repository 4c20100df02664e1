#include "bertforge/util/checksum.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

TEST(Checksum, Crc32IsZlibsAndPythons) {
  // zlib.crc32(b"123456789") == 0xCBF43926, the CRC-32 check value.
  EXPECT_EQ(bertforge::crc32_bytes("123456789", 9), 0xCBF43926u);
  auto path = std::filesystem::temp_directory_path() / "bf_crc32.txt";
  std::string big(9 << 20, 'x');  // crosses the 4 MiB read blocks
  std::copy_n("123456789", 9, big.begin());
  { std::ofstream(path, std::ios::binary) << big; }
  EXPECT_EQ(bertforge::crc32_file(path.string()), bertforge::crc32_bytes(big.data(), big.size()));
  EXPECT_THROW(bertforge::crc32_file("/nonexistent/file"), std::runtime_error);
}
