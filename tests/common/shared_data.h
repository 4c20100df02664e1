// Where tests find the data they share (vocabularies, WikiText-103's validation text, reference ids, the
// reference's HF dataset, a tiny model): tests/fixtures/ in the source tree (its README says where each file
// comes from), or the folder BERTFORGE_DATA names instead. A missing file fails the test: the data is part of
// the checkout, so a test never passes by skipping.
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/paths.h"

namespace bertforge::testing {

inline std::string shared_data_root() {
  const char* env = std::getenv("BERTFORGE_DATA");
  return env && *env ? env : source_dir() + "/tests/fixtures";
}

// Use as: SHARED_DATA(path, "vocab/bert-base-cased/vocab.txt");
#define SHARED_DATA(var, rel)                                                            \
  std::string var = ::bertforge::testing::shared_data_root() + "/" + (rel);              \
  if (!std::filesystem::exists(var)) FAIL() << "test data missing: " << var              \
                                            << " (tests/fixtures/ or BERTFORGE_DATA)";

}  // namespace bertforge::testing
