// main() of every test executable. Each test process gets a fresh TMPDIR, removed at exit, so tests that
// write fixed names under temp_directory_path() never collide when ctest runs them in parallel or when
// several builds run their tests at once on the same machine.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <string>

int main(int argc, char** argv) {
  const char* parent = std::getenv("TMPDIR");
  std::string tmpl = std::string(parent && *parent ? parent : "/tmp") + "/bertforge-test-XXXXXX";
  if (!::mkdtemp(tmpl.data())) {
    std::perror("mkdtemp");
    return 2;
  }
  ::setenv("TMPDIR", tmpl.c_str(), 1);
  ::testing::InitGoogleMock(&argc, argv);
  int rc = RUN_ALL_TESTS();
  std::error_code ignored;
  std::filesystem::remove_all(tmpl, ignored);
  return rc;
}
