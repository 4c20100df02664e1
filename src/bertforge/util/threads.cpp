#include "bertforge/util/threads.h"

#include <ATen/Config.h>  // AT_PARALLEL_OPENMP
#include <ATen/Parallel.h>
#include <dlfcn.h>         // dlsym: the OpenMP runtime LibTorch loaded

#include <atomic>
#include <thread>

namespace bertforge {

namespace {
std::atomic<int> g_threads{0};
}

int max_threads() { return 4 * resolve_threads(0); }

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

bool compute_serially_on_this_thread() {
#if AT_PARALLEL_OPENMP
  // OpenMP's thread count belongs to the calling thread, but at::set_num_threads also changes the count
  // that every thread takes when it first does ATen work (the main thread too, if it has not yet), so the
  // OpenMP runtime is asked directly. get_num_threads first: ATen's one-time per-thread initialisation,
  // which would otherwise reset the count at this thread's first parallel loop.
  using SetNumThreads = void (*)(int);
  auto set = reinterpret_cast<SetNumThreads>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  if (!set) return false;
  at::get_num_threads();
  set(1);
  return at::get_num_threads() == 1;
#else
  return false;
#endif
}

}  // namespace bertforge
