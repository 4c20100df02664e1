// Where the training loader is: the next batch to deliver. Saved in checkpoints (train/resume_point.h).
#pragma once
#include <cstdint>

namespace bertforge::data {

struct LoaderPosition {
  std::uint64_t epoch = 0, batch = 0;
  bool operator==(const LoaderPosition& o) const { return epoch == o.epoch && batch == o.batch; }
};

}  // namespace bertforge::data
