#include "bertforge/util/threads.h"

#include <ATen/Parallel.h>

#include <atomic>
#include <thread>

namespace bertforge {

namespace {
std::atomic<int> g_threads{0};
}

int resolve_threads(int requested) {
  if (requested > 0) return requested;
  int hw = static_cast<int>(std::thread::hardware_concurrency());
  return hw > 0 ? hw : 1;
}

int set_threads(int requested) {
  int n = resolve_threads(requested);
  at::set_num_threads(n);
  g_threads = n;
  return n;
}

int num_threads() {
  int n = g_threads;
  return n > 0 ? n : resolve_threads(0);
}

}  // namespace bertforge
