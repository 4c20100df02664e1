#include "bertforge/train/run_dir.h"

#include <chrono>
#include <filesystem>

#include "bertforge/model/cpu_caps.h"
#include "bertforge/model/device.h"
#include "bertforge/train/checkpoint.h"
#include "bertforge/train/resume_point.h"
#include "bertforge/train/stop_signal.h"
#include "bertforge/util/error.h"
#include "bertforge/util/messages.h"

namespace fs = std::filesystem;

namespace bertforge::train {
namespace {

std::string resume_checkpoint(const TrainingArguments& a, dist::World& world) {
  const std::string& r = a.resume_from_checkpoint;
  if (r.empty() || r == "false" || r == "False") return "";
  if (r != "latest" && r != "true" && r != "True") {
    if (!fs::is_directory(r)) fail_at(r, 0, "resume_from_checkpoint: no such checkpoint folder");
    if (world.is_main()) verify_checkpoint(r);
    return r;
  }
  double chosen = 0;  // the other ranks add 0 to rank 0's choice
  if (world.is_main()) {
    chosen = -1;
    auto all = list_checkpoints(a.output_dir);
    if (all.empty()) fail_at(a.output_dir, 0, "No valid checkpoint found in output directory");
    std::string first_error;
    for (auto c = all.rbegin(); c != all.rend() && chosen < 0; ++c) {
      try {
        verify_checkpoint(*c);
        chosen = static_cast<double>(checkpoint_step(*c));
        if (c != all.rbegin()) warn("resuming from " + *c + ", the newest checkpoint that verifies");
      } catch (const Error& e) {
        warn(std::string("skipping a checkpoint that does not verify: ") + e.what());
        if (first_error.empty()) first_error = e.what();
      }
    }
    if (chosen < 0) fail_at(a.output_dir, 0, "no checkpoint verifies (the newest: " + first_error + ")");
  }
  chosen = world.sum({chosen})[0];
  return (fs::path(a.output_dir) / checkpoint_name(static_cast<std::int64_t>(chosen))).string();
}

void check_output_dir(const TrainingArguments& a, bool resuming) {
  if (resuming || a.overwrite_output_dir) return;
  if (auto last = last_checkpoint(a.output_dir))
    fail_at(a.output_dir, 0, "already holds " + fs::path(*last).filename().string() +
                                 "; continue with --resume_from_checkpoint latest, or start afresh with "
                                 "--overwrite_output_dir");
}

std::string open_run(const TrainingArguments& args, const std::string& dump_batches, dist::World& world,
                     std::optional<FolderLock>& lock) {
  const std::string& out = args.output_dir;
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) fail_at(out, 0, "cannot create output_dir: " + ec.message());
  if (!dump_batches.empty()) fs::create_directories(dump_batches);
  if (world.is_main()) lock.emplace(out);
  if (lock && !lock->took_over().empty()) warn("took over the lock of " + lock->took_over() + ", which no longer runs");
  std::string checkpoint = resume_checkpoint(args, world);
  check_output_dir(args, !checkpoint.empty());
  if (world.is_main() && checkpoint.empty() && args.overwrite_output_dir) {
    const std::string aside = set_aside_previous_run(out);
    if (!aside.empty())
      warn("overwrite_output_dir: moved the previous run in " + out + " to " + aside +
           " (out of reach of resume and plots; delete it when no longer needed)");
  }
  world.barrier();
  if (world.is_main()) remove_partial_checkpoints(out);
  return checkpoint;
}

}  // namespace

data::LoaderOptions loader_options(const TrainingArguments& a, bool train, const dist::World& world, c10::Device device) {
  data::LoaderOptions o;
  o.batch_size = static_cast<int>(train ? a.per_device_train_batch_size : a.per_device_eval_batch_size);
  o.sampling = train ? data::sampling_from_name(a.train_sampling_strategy) : data::Sampling::sequential;
  o.group_size = o.batch_size * static_cast<int>(a.gradient_accumulation_steps);
  o.seed = static_cast<std::uint64_t>(a.seed);
  o.drop_last_batch = a.dataloader_drop_last;
  o.even_shards = train;  // every rank takes each training step; evaluation counts each row once
  o.world_size = world.size();
  o.rank = world.rank();
  if (!train) o.prefetch = 0;
  o.pin_memory = device.is_cuda() && a.dataloader_pin_memory;
  return o;
}

RunSetup::RunSetup(const TrainingArguments& args, const std::string& device_name, const std::string& dump_batches)
    : device(model::parse_device(device_name)) {
  model::prepare_cpu(args.bf16, device);
  dist::WorldOptions wo;
  wo.timeout = std::chrono::seconds(args.ddp_timeout);
  wo.device = device.is_cuda() ? "cuda" : "cpu";
  wo.stop_signal = StopSignal::signal_number;
  world = dist::from_environment(wo);
  if (device.is_cuda() && world->size() > 1) device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(world->local_rank()));
  checkpoint = open_run(args, dump_batches, *world, lock);
}

}  // namespace bertforge::train
