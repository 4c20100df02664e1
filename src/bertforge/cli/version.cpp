// `bertforge version`: what this binary was built with and what it sees, for bug reports.
#include <torch/version.h>
#include <torch/cuda.h>

#include <cstdio>

#include "bertforge/cli/commands.h"
#include "bertforge/util/threads.h"

namespace bertforge::cli {

Command add_version(CLI::App& parent) {
  auto* app = parent.add_subcommand("version", "print versions, devices and thread count");
  return {app, [] {
            std::printf("bertforge 0.1.0\nLibTorch %s\nCUDA devices %d\nthreads %d\n", TORCH_VERSION,
                        static_cast<int>(torch::cuda::device_count()), num_threads());
            return 0;
          }};
}

}  // namespace bertforge::cli
