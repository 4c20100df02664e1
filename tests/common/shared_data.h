// Where tests find ../shared/data: BERTFORGE_DATA, defaulting to ../shared/data beside the source tree.
// Absent and not asked for: the test is skipped visibly. BERTFORGE_DATA set (as .ci/run does) but the file
// missing: the test fails, so CI never passes by skipping.
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/paths.h"

namespace bertforge::testing {

inline std::string shared_data_root() {
  const char* env = std::getenv("BERTFORGE_DATA");
  return env && *env ? env : source_dir() + "/../shared/data";
}

// Use as: SHARED_DATA(path, "vocab/bert-base-cased/vocab.txt");
#define SHARED_DATA(var, rel)                                                                     \
  std::string var = ::bertforge::testing::shared_data_root() + "/" + (rel);                       \
  if (!std::filesystem::exists(var)) {                                                            \
    if (std::getenv("BERTFORGE_DATA")) FAIL() << "BERTFORGE_DATA is set but " << var << " is missing"; \
    GTEST_SKIP() << "shared data absent: " << var;                                                \
  }

}  // namespace bertforge::testing
