// EventFileWriter's framing, byte for byte; that TensorBoard reads the files is tests/python/test_tensorboard.py's.
#include "bertforge/util/event_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace fs = std::filesystem;
using bertforge::crc32c;

namespace {

std::uint32_t unmask(std::uint32_t m) {
  std::uint32_t r = m - 0xa282ead8u;
  return (r >> 17) | (r << 15);
}

template <typename T>
T read(const std::string& s, std::size_t at) {
  T v;
  std::memcpy(&v, s.data() + at, sizeof v);
  return v;
}

}  // namespace

TEST(EventFile, Crc32cOfTheStandardCheckString) {
  EXPECT_EQ(crc32c("123456789", 9), 0xe3069283u);  // the CRC-32C check value (RFC 3720, B.4)
  EXPECT_EQ(crc32c("", 0), 0u);
}

TEST(EventFile, RecordsAreFramedAndCarryTheScalar) {
  fs::path dir = fs::temp_directory_path() / "bf_event_file_test";
  fs::remove_all(dir);
  std::string path;
  {
    bertforge::EventFileWriter w(dir.string());
    path = w.path();
    w.add_scalar("train/loss", 2.5, 7, 1000.0);
    w.flush();
  }
  EXPECT_EQ(fs::path(path).parent_path(), dir);
  EXPECT_EQ(fs::path(path).filename().string().rfind("events.out.tfevents.", 0), 0u);
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> records;
  for (std::size_t at = 0; at < bytes.size();) {
    ASSERT_LE(at + 12, bytes.size());
    auto length = read<std::uint64_t>(bytes, at);
    EXPECT_EQ(unmask(read<std::uint32_t>(bytes, at + 8)), crc32c(bytes.data() + at, 8));
    ASSERT_LE(at + 16 + length, bytes.size());
    records.push_back(bytes.substr(at + 12, length));
    EXPECT_EQ(unmask(read<std::uint32_t>(bytes, at + 12 + length)), crc32c(records.back().data(), length));
    at += 16 + length;
  }
  ASSERT_EQ(records.size(), 2u);
  EXPECT_NE(records[0].find("brain.Event:2"), std::string::npos);
  // Event: wall_time (field 1, fixed64), step (field 2, varint 7), summary (field 5) > value > tag, simple_value.
  const std::string& e = records[1];
  EXPECT_EQ(e[0], 0x09);
  EXPECT_EQ(read<double>(e, 1), 1000.0);
  EXPECT_EQ(e.substr(9, 2), std::string("\x10\x07", 2));
  EXPECT_EQ(e[11], 0x2a);
  std::size_t tag = e.find("train/loss");
  ASSERT_NE(tag, std::string::npos);
  EXPECT_EQ(e[tag + 10], 0x15);
  EXPECT_EQ(read<float>(e, tag + 11), 2.5f);
  fs::remove_all(dir);
}
