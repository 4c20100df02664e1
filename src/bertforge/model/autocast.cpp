#include "bertforge/model/autocast.h"

#include <ATen/autocast_mode.h>

namespace bertforge::model {

Autocast::Autocast(c10::DeviceType device_type, c10::ScalarType dtype)
    : device_(device_type),
      was_enabled_(at::autocast::is_autocast_enabled(device_type)),
      was_dtype_(at::autocast::get_autocast_dtype(device_type)) {
  bool on = dtype != c10::kFloat;
  at::autocast::set_autocast_enabled(device_, on);
  if (on) at::autocast::set_autocast_dtype(device_, dtype);
  at::autocast::increment_nesting();
}

Autocast::~Autocast() {
  // Casts cached for this scope (fp32 weights in bf16) are freed when the outermost scope ends.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(device_, was_enabled_);
  at::autocast::set_autocast_dtype(device_, was_dtype_);
}

}  // namespace bertforge::model
