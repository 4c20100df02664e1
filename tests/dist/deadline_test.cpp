// within() and Watchdog: the deadlines that keep a c10d call without one from hanging a rank.
#include "bertforge/dist/deadline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <string>
#include <memory>
#include <stdexcept>

using namespace std::chrono_literals;
using bertforge::dist::Watchdog;
using bertforge::dist::WatchdogSection;
using bertforge::dist::within;

TEST(Within, ReturnsWhatTheCallDidInTime) {
  int value = 0;
  EXPECT_TRUE(within(5s, [&] { value = 7; }));
  EXPECT_EQ(value, 7);
  EXPECT_THROW(within(5s, [] { throw std::runtime_error("refused"); }), std::runtime_error);
}

// The blocked call is left behind, owning its state; the caller goes on after the limit.
TEST(Within, GivesUpOnACallThatBlocksAndLeavesItRunning) {
  auto release = std::make_shared<std::atomic<bool>>(false);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(within(100ms, [release] {
    while (!*release) std::this_thread::sleep_for(5ms);
  }));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  *release = true;
}

TEST(Watchdog, SectionsClosedInTimeDoNothing) {
  Watchdog dog;
  for (int i = 0; i < 100; ++i) WatchdogSection section(dog, 200ms, "never printed");
  std::this_thread::sleep_for(300ms);
}

TEST(WatchdogDeathTest, ASectionThatOverrunsEndsTheProcessWithOneLine) {
  EXPECT_EXIT(
      {
        Watchdog dog;
        WatchdogSection section(dog, 100ms, "distributed: rank 1: barrier blocked");
        std::this_thread::sleep_for(10s);
      },
      ::testing::ExitedWithCode(1), "^bertforge: distributed: rank 1: barrier blocked\n$");
}

// A stop signal while a section waits on a peer that is gone: the policy's line, status 128 + the signal,
// long before the section's own deadline.
TEST(WatchdogDeathTest, ASignalEndsASectionThatCannotEnd) {
  EXPECT_EXIT(
      {
        std::atomic<int> signal{0};
        Watchdog dog;
        dog.on_signal({[&] { return signal.load(); }, [] { return std::string("rank 1 stopped responding"); }});
        WatchdogSection section(dog, 1h, "never printed");
        std::this_thread::sleep_for(300ms);
        signal = SIGTERM;
        std::this_thread::sleep_for(10s);
      },
      ::testing::ExitedWithCode(128 + SIGTERM), "^bertforge: rank 1 stopped responding\n$");
}

// With every peer alive the section is left to finish after a signal (the run then stops after its step);
// the policy is asked again while the section stays open.
TEST(Watchdog, ASignalLeavesASectionThatCanEndToFinish) {
  std::atomic<int> asked{0};
  Watchdog dog;
  dog.on_signal({[] { return SIGINT; }, [&] {
                   ++asked;
                   return std::string();
                 }});
  {
    WatchdogSection section(dog, 1h, "never printed");
    std::this_thread::sleep_for(2 * Watchdog::kSignalRecheck + 500ms);
  }
  const int after_close = asked.load();
  EXPECT_GE(after_close, 2);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(asked.load(), after_close);  // no section open, nothing asked
}
