// Replaying what the fuzz targets (fuzz/) found: an input written as the file a parser opens, and the check
// that parsing it ends in a bertforge::Error with the expected message (never another exception or a crash).
#pragma once
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>

#include "bertforge/util/error.h"

namespace bertforge::testing {

// A fresh folder under the temporary directory.
inline std::string replay_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("bf_replay_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

inline std::string write_bytes(const std::string& path, std::string_view bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

inline void expect_error_containing(const std::function<void()>& parse, const std::string& part) {
  try {
    parse();
    ADD_FAILURE() << "no error, expected one containing " << part;
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr(part));
  }
}

}  // namespace bertforge::testing
