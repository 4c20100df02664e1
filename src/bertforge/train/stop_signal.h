// SIGINT/SIGTERM during training: the first signal only raises a flag the loop checks after each optimizer
// step (finish the step, save a checkpoint, exit 128 + the signal). While installed, a second signal is not fatal either;
// after the guard is destroyed the previous handlers are back.
#pragma once
#include <csignal>

namespace bertforge::train {

class StopSignal {
 public:
  StopSignal();   // installs the handlers
  ~StopSignal();  // restores the previous ones
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  static bool requested();
  static int signal_number();  // the signal received, 0 if none

 private:
  struct sigaction old_int_, old_term_;
};

}  // namespace bertforge::train
