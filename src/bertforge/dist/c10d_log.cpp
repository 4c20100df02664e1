#include "bertforge/dist/c10d_log.h"

#include <c10/util/Logging.h>

#include <cstdlib>

namespace bertforge::dist {

void quiet_c10d_warnings() {
  const char* chosen = std::getenv("TORCH_CPP_LOG_LEVEL");
  if (chosen && *chosen) return;
  FLAGS_caffe2_log_level = c10::GLOG_ERROR;
  c10::UpdateLoggingLevelsFromFlags();
}

}  // namespace bertforge::dist
