// The loader's prefetch thread computes serially without touching any other thread's intra-op count.
#include "bertforge/util/threads.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <thread>

TEST(Threads, SerialComputeChangesOnlyTheCallingThread) {
  const int main_threads = at::get_num_threads();
  bool changed = false;
  int inside = 0, after_work = 0, fresh = 0;
  std::thread worker([&] {
    changed = bertforge::compute_serially_on_this_thread();
    inside = at::get_num_threads();
    at::Tensor big = at::ones({1 << 22});
    big.mul_(2).sum();  // parallel-sized work: the count stays 1
    after_work = at::get_num_threads();
  });
  worker.join();
  std::thread later([&] { fresh = at::get_num_threads(); });
  later.join();
  if (!changed) GTEST_SKIP() << "LibTorch's parallel backend is not OpenMP";
  EXPECT_EQ(inside, 1);
  EXPECT_EQ(after_work, 1);
  EXPECT_EQ(at::get_num_threads(), main_threads);  // the calling (main) thread keeps its count
  EXPECT_EQ(fresh, main_threads);                  // and threads started later are not affected
}
