// Paths of this build, compiled into one small generated file per test executable instead of into every test
// source: a define holding an absolute path would make each clone or worktree miss ccache on every test file.
// Each may be overridden by an environment variable of the same name (see tests/CMakeLists.txt).
#pragma once
#include <string>

namespace bertforge::testing {

std::string source_dir();      // the source tree
std::string bertforge_bin();   // the bertforge executable
std::string dist_toy_bin();    // the small distributed trainer (test_dist only)

}  // namespace bertforge::testing
