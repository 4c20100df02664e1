// Learning-rate schedules with the formulas of Hugging Face's get_scheduler (transformers optimization.py):
// the learning rate of optimizer step `step` (0-based: the rate used by the first update is lr_at(0)) is
// base_lr times HF's lambda. The schedule has no state beyond the step count, which the trainer keeps, so
// resuming needs nothing more than the step.
#pragma once
#include <cstdint>
#include <string>

namespace bertforge::train {

struct Schedule {
  std::string type = "linear";  // linear cosine constant constant_with_warmup polynomial
  double base_lr = 5e-5;
  std::int64_t warmup_steps = 0;
  std::int64_t total_steps = 1;
  double lr_end = 1e-7;         // polynomial only (HF's default)
  double power = 1.0;           // polynomial only
  double num_cycles = 0.5;      // cosine only

  double lr_at(std::int64_t step) const;  // throws Error for an unknown type
};

}  // namespace bertforge::train
