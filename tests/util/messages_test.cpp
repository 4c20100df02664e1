#include "bertforge/util/messages.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace bertforge;

namespace {
std::string refusal(double value, const Interval& allowed) {
  try {
    check_option("--x", value, allowed);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(CheckOption, StatesTheAllowedRangeAsIntervalsAreWritten) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(refusal(1.5, {0, 1}), "--x: 1.5 is out of range (must be in [0, 1])");
  EXPECT_EQ(refusal(1, {0, 1, false, true}), "--x: 1 is out of range (must be in [0, 1))");
  EXPECT_EQ(refusal(0, {0, inf, true}), "--x: 0 is out of range (must be > 0)");
  EXPECT_EQ(refusal(-3, {1, inf}), "--x: -3 is out of range (must be >= 1)");
  EXPECT_EQ(refusal(std::nan(""), {0, 1}), "--x: nan is not a finite number");
  EXPECT_EQ(refusal(0, {0, 1}), "");
  EXPECT_EQ(refusal(1, {0, 1}), "");
  EXPECT_EQ(refusal(1e300, {1, inf}), "");
}

TEST(Messages, NameTheCommandOnceChosen) {
  EXPECT_EQ(message_prefix(), "bertforge");
  set_command("prepare");
  EXPECT_EQ(message_prefix(), "bertforge prepare");
  ::testing::internal::CaptureStderr();
  warn("corpus.txt:3: over-long line, skipped");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "bertforge prepare: warning: corpus.txt:3: over-long line, skipped\n");
  set_command("");
}

// A value quoted from a file or a command line may hold any byte: what reaches the user stays one line.
TEST(Messages, ControlCharactersAreEscapedInEveryErrorAndWarning) {
  EXPECT_STREQ(Error("x.json: unknown option 'a\nb\tc\rd\x01\x7f'").what(),
               "x.json: unknown option 'a\\nb\\tc\\rd\\u0001\\u007f'");
  EXPECT_STREQ(UsageError("--optim: 'x\ny' is not one of ...").what(), "--optim: 'x\\ny' is not one of ...");
  EXPECT_STREQ(Error("caf\xc3\xa9 \"quoted\" back\\slash").what(), "caf\xc3\xa9 \"quoted\" back\\slash");
  EXPECT_STREQ(Error(Error("twice\n").what()).what(), "twice\\n");
  ::testing::internal::CaptureStderr();
  warn("corpus.txt: line\nbreak");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "bertforge: warning: corpus.txt: line\\nbreak\n");
}
