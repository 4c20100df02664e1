#include "bertforge/train/schedule.h"

#include <algorithm>
#include <cmath>

#include "bertforge/util/messages.h"

namespace bertforge::train {

namespace {
constexpr double kPi = 3.141592653589793;  // Python's math.pi
constexpr double kPolynomialEnd = 1e-7, kPolynomialPower = 1.0;

double warmup_factor(std::int64_t step, std::int64_t warmup) {
  return static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(1, warmup));
}

// HF's lambda of each type, transcribed in the same order of operations, so the rates agree to the last bit.
double factor(const Schedule& s, std::int64_t step) {
  const std::int64_t warmup = s.warmup_steps, total = s.total_steps;
  const double progress = static_cast<double>(step - warmup) / static_cast<double>(std::max<std::int64_t>(1, total - warmup));
  switch (s.type) {
    case ScheduleType::constant:
      return 1.0;
    case ScheduleType::constant_with_warmup:
      return step < warmup ? warmup_factor(step, warmup) : 1.0;
    case ScheduleType::linear:
      if (step < warmup) return warmup_factor(step, warmup);
      return std::max(0.0, static_cast<double>(total - step) / static_cast<double>(std::max<std::int64_t>(1, total - warmup)));
    case ScheduleType::cosine:
      if (step < warmup) return warmup_factor(step, warmup);
      return std::max(0.0, 0.5 * (1.0 + std::cos(kPi * 0.5 * 2.0 * progress)));
    case ScheduleType::cosine_with_restarts:
      if (step < warmup) return warmup_factor(step, warmup);
      if (progress >= 1.0) return 0.0;
      return std::max(0.0, 0.5 * (1.0 + std::cos(kPi * std::fmod(1.0 * progress, 1.0))));
    case ScheduleType::polynomial: {
      if (step < warmup) return warmup_factor(step, warmup);
      if (step > total) return kPolynomialEnd / s.base_lr;
      const double range = s.base_lr - kPolynomialEnd;
      const double remaining = 1 - static_cast<double>(step - warmup) / static_cast<double>(total - warmup);
      return (range * std::pow(remaining, kPolynomialPower) + kPolynomialEnd) / s.base_lr;
    }
    case ScheduleType::inverse_sqrt: {
      if (step < warmup) return warmup_factor(step, warmup);
      const std::int64_t timescale = warmup ? warmup : 10000;
      return 1.0 / std::sqrt(static_cast<double>(step + timescale - warmup) / static_cast<double>(timescale));
    }
  }
  return 1.0;
}
}  // namespace

const std::vector<std::string>& schedule_names() {
  static const std::vector<std::string> names{"linear",   "cosine",   "cosine_with_restarts", "constant",
                                              "constant_with_warmup", "polynomial", "inverse_sqrt"};
  return names;
}

ScheduleType schedule_type(const std::string& name) {
  const auto& names = schedule_names();
  auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) throw UsageError("--lr_scheduler_type: '" + name + "' is not a schedule bertforge has");
  return static_cast<ScheduleType>(it - names.begin());
}

double Schedule::lr_at(std::int64_t step) const { return base_lr * factor(*this, step); }

}  // namespace bertforge::train
