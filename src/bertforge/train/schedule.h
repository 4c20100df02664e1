// Learning-rate schedules with the formulas of Hugging Face's get_scheduler (transformers optimization.py):
// the learning rate of optimizer step `step` (0-based: the rate used by the first update is lr_at(0)) is
// base_lr times HF's lambda. The schedule has no state beyond the step count, which the trainer keeps, so
// resuming needs nothing more than the step. The types are HF's lr_scheduler_type values that need no
// evaluation metric and no lr_scheduler_kwargs (HF's defaults: num_cycles 0.5 for cosine and 1 for
// cosine_with_restarts, power 1 and lr_end 1e-7 for polynomial, timescale = warm-up steps or 10000 for
// inverse_sqrt).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace bertforge::train {

enum class ScheduleType { linear, cosine, cosine_with_restarts, constant, constant_with_warmup, polynomial, inverse_sqrt };
// HF's names, in the order above; schedule_type() throws UsageError naming --lr_scheduler_type for any other.
const std::vector<std::string>& schedule_names();
ScheduleType schedule_type(const std::string& name);

struct Schedule {
  ScheduleType type = ScheduleType::linear;
  double base_lr = 5e-5;
  std::int64_t warmup_steps = 0;
  std::int64_t total_steps = 1;

  double lr_at(std::int64_t step) const;
};

}  // namespace bertforge::train
