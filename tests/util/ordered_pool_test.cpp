#include "bertforge/util/ordered_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

using bertforge::OrderedPool;

// Jobs that finish out of order (later ones sooner) still hand on in submission order, and no more than the
// window is ever in flight.
TEST(OrderedPool, HandsOnInSubmissionOrderWithinTheWindow) {
  std::vector<int> order;
  int in_flight = 0, most = 0;  // counted on the calling thread, where submit() and every `then` run
  {
    OrderedPool pool(4, 3);
    for (int i = 0; i < 40; ++i) {
      most = std::max(most, ++in_flight);
      auto value = std::make_shared<int>();
      pool.submit([i, value] {
        std::this_thread::sleep_for(std::chrono::microseconds(200 * (3 - i % 4)));
        *value = i;
      }, [&, value] {
        order.push_back(*value);
        --in_flight;
      });
    }
    pool.finish();
  }
  ASSERT_EQ(order.size(), 40u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(order[i], i);
  EXPECT_LE(most, 3);
}

// The first failing job's exception reaches the caller; what was handed on before it stays handed on, in order.
TEST(OrderedPool, RethrowsTheFirstErrorOfAJob) {
  std::vector<int> order;
  auto run = [&] {
    OrderedPool pool(2, 4);
    for (int i = 0; i < 20; ++i)
      pool.submit([i] { if (i == 5) throw std::runtime_error("job 5"); }, [&, i] { order.push_back(i); });
    pool.finish();
  };
  EXPECT_THROW(run(), std::runtime_error);
  ASSERT_LE(order.size(), 5u);
  for (std::size_t i = 0; i < order.size(); ++i) EXPECT_EQ(order[i], static_cast<int>(i));
}

TEST(OrderedPool, OneThreadRunsEverythingInTheCaller) {
  const auto caller = std::this_thread::get_id();
  int handed_on = 0;
  OrderedPool pool(1, 8);
  pool.submit([&] { EXPECT_EQ(std::this_thread::get_id(), caller); }, [&] { ++handed_on; });
  EXPECT_EQ(handed_on, 1);  // before submit() returns
  pool.finish();
}
