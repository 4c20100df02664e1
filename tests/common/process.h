// Child processes for the tests that run bertforge as a process (distributed runs, faults): start a command
// with extra environment variables, its output captured in a file, and wait for it with a deadline (a test
// never hangs on a child). max_file_bytes > 0 simulates a full disk in the child: RLIMIT_FSIZE is set and
// SIGXFSZ ignored before exec, so a write past that size fails with EFBIG as on a full file system.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bertforge::testing {

struct Process {
  pid_t pid = -1;
  std::string log;  // stdout and stderr
};

Process start(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
              const std::string& log, std::uint64_t max_file_bytes = 0);
// The raw wait status, or nullopt when the deadline passed (the process is then killed).
std::optional<int> wait_for(const Process& p, std::chrono::milliseconds deadline);
std::string read_file(const std::string& path);
// A TCP port nobody listens on now (bound and released).
int free_port();

}  // namespace bertforge::testing
