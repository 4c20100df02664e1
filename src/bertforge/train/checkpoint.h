// Checkpoint folders in output_dir, laid out and named as HF Trainer does it: output_dir/checkpoint-<step>/.
//
// Crash safety: a checkpoint is filled in output_dir/tmp-checkpoint-<step>/, every file and the folder are
// fsynced, then the folder is renamed to checkpoint-<step> and output_dir fsynced. A kill -9 at any instant
// therefore leaves either no checkpoint-<step> (the previous ones untouched) or a whole one. Deleting (rotation,
// replacing a checkpoint of the same step) first renames the folder to tmp-old-checkpoint-<step>, so a kill
// mid-delete never leaves a partial checkpoint-<step> either. Leftover tmp-* folders are removed by
// remove_partial_checkpoints() at start; they never match HF's ^checkpoint-(\d+)$. A kill between publishing
// and rotating leaves one checkpoint more than save_total_limit until the next save rotates.
//
// The RNG file holds the default CPU generator's state (and each CUDA device's), so dropout continues as in
// an uninterrupted run.
#pragma once
#include <torch/serialize/output-archive.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace bertforge::train {

std::string checkpoint_name(std::int64_t step);  // "checkpoint-<step>"
std::int64_t checkpoint_step(const std::string& folder);  // <step> of .../checkpoint-<step>; Error otherwise

// Creates the temporary folder, calls fill(folder) to write the files, then publishes it durably. If fill
// or any write throws, the temporary folder is removed and the error propagates. Returns the final path.
std::string write_checkpoint(const std::string& output_dir, std::int64_t step,
                             const std::function<void(const std::string& folder)>& fill);

// Checkpoint folders ordered by step, oldest first (HF sort_checkpoints by step number).
std::vector<std::string> list_checkpoints(const std::string& output_dir);
// The checkpoint with the highest step, as HF get_last_checkpoint; nullopt when there is none.
std::optional<std::string> last_checkpoint(const std::string& output_dir);
// HF rotate_checkpoints: keep at most `limit` (0: all), never deleting the newest or `best`.
void rotate_checkpoints(const std::string& output_dir, std::int64_t limit, const std::string& best = "");
// HF's end of a run with save_total_limit 1 and a best checkpoint: every other checkpoint is removed.
void remove_checkpoints_except(const std::string& output_dir, const std::string& keep);
void remove_partial_checkpoints(const std::string& output_dir);

// overwrite_output_dir: moves everything a previous run left in output_dir (checkpoints, metrics.jsonl, the
// final model, trainer_state.json, plots, event files) into output_dir/overwritten-<UTC time>/, so neither
// resume nor plots see it again and nothing is deleted. Kept in place: prepared/ (imported data, not the run's),
// the lock file and earlier overwritten-* folders. Returns the folder made, or "" when there was nothing to move.
std::string set_aside_previous_run(const std::string& output_dir);

// Writes a LibTorch archive through memory and then to `path` with every write checked: LibTorch's own
// file writer finishes the zip in a destructor and, on a full disk, terminates the process from there.
void save_archive(torch::serialize::OutputArchive& archive, const std::string& path);

void save_rng_state(const std::string& path);
void load_rng_state(const std::string& path);  // throws Error naming the file

}  // namespace bertforge::train
