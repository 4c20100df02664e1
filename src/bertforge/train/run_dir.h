// What every training command (pretrain, finetune) does before its first step: the device, the process group
// of the launch (dist/world.h: torchrun/SLURM variables), and output_dir made ready: created, locked (rank 0
// holds the lock for the run, taken before anything in it is read), the checkpoint to resume from chosen and
// verified, a previous run set aside with overwrite_output_dir, partial checkpoints removed.
//
// resume_from_checkpoint "latest" (or "true") takes the newest checkpoint that verifies, saying which newer
// ones failed and why; rank 0 chooses and the others follow. Without a resume, an output_dir that already
// holds checkpoints is an Error unless overwrite_output_dir.
#pragma once
#include <c10/core/Device.h>

#include <memory>
#include <optional>
#include <string>

#include "bertforge/data/loader.h"
#include "bertforge/dist/world.h"
#include "bertforge/train/training_args.h"
#include "bertforge/util/folder_lock.h"

namespace bertforge::train {

struct RunSetup {
  // device: auto, cpu, cuda or cuda:N. dump_batches: a folder to create too ("" for none).
  RunSetup(const TrainingArguments& args, const std::string& device, const std::string& dump_batches = "");

  c10::Device device = c10::kCPU;  // with CUDA and several ranks: this rank's local GPU
  std::unique_ptr<dist::World> world;
  std::optional<FolderLock> lock;  // rank 0's
  std::string checkpoint;          // to resume from; "" for none
};

// The loader settings TrainingArguments give a training (`train`) or evaluation loader on this rank: batch size,
// sampling (evaluation: sequential, each row once, no prefetch), seed, drop_last, pinned memory for CUDA.
data::LoaderOptions loader_options(const TrainingArguments& args, bool train, const dist::World& world, c10::Device device);

}  // namespace bertforge::train
