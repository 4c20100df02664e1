#include "bertforge/train/schedule.h"

#include <algorithm>
#include <cmath>

#include "bertforge/util/error.h"

namespace bertforge::train {

namespace {
constexpr double kPi = 3.141592653589793;  // Python's math.pi

double warmup_factor(std::int64_t step, std::int64_t warmup) {
  return static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(1, warmup));
}
}  // namespace

// Each branch transcribes HF's lambda in the same order of operations, so the rates agree to the last bit.
double Schedule::lr_at(std::int64_t step) const {
  if (type == "constant") return base_lr;
  if (step < warmup_steps && type != "constant") return base_lr * warmup_factor(step, warmup_steps);
  if (type == "constant_with_warmup") return base_lr;
  if (type == "linear") {
    double f = static_cast<double>(total_steps - step) /
               static_cast<double>(std::max<std::int64_t>(1, total_steps - warmup_steps));
    return base_lr * std::max(0.0, f);
  }
  if (type == "cosine") {
    double progress = static_cast<double>(step - warmup_steps) /
                      static_cast<double>(std::max<std::int64_t>(1, total_steps - warmup_steps));
    double f = 0.5 * (1.0 + std::cos(kPi * num_cycles * 2.0 * progress));
    return base_lr * std::max(0.0, f);
  }
  if (type == "polynomial") {
    if (step > total_steps) return base_lr * (lr_end / base_lr);
    double range = base_lr - lr_end;
    double remaining = 1 - static_cast<double>(step - warmup_steps) / static_cast<double>(total_steps - warmup_steps);
    return base_lr * ((range * std::pow(remaining, power) + lr_end) / base_lr);
  }
  throw Error("lr_scheduler_type: unknown schedule '" + type + "'");
}

}  // namespace bertforge::train
