// bertforge_state.json: what resume needs beyond HF's trainer_state.json, written into each checkpoint (last:
// `files` holds the size and CRC-32 of every other file beside it, util/checksum.h) and read back on resume.
// No LibTorch here, so the file's parser is fuzzed on its own (fuzz/).
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "bertforge/data/loader_position.h"

namespace bertforge::train {

struct ResumePoint {
  int phase = 0;                      // index into the recipe's phases
  std::int64_t phase_start_step = 0;  // global_step when this phase began (checkpoints count across phases)
  data::LoaderPosition loader;
  double lr_scale = 1;                // nan_policy rollback's learning-rate scale (1: none)
  nlohmann::json files = nlohmann::json::object();  // {"model.safetensors": {"bytes": n, "crc32": c}, ...}
};

// Fills `files` from the folder of `path`, then writes the file atomically.
void save_resume_point(const std::string& path, ResumePoint p);
// Throws Error naming the file and the field when it is not a bertforge resume file of a known version, or a
// field is missing, of the wrong type or out of range (a negative step or position would index out of the run).
ResumePoint load_resume_point(const std::string& path);

// A checkpoint fit to resume from, before anything is restored: bertforge_state.json as above, every file it
// lists present with its size and CRC-32, and trainer_state.json's counters sound (global_step >= 0, equal
// to the N of a checkpoint-N folder and not before the phase's start; epoch, total_flos and best_global_step in
// range). The first failure is an Error naming the file and what is wrong. Checkpoints written before
// checksums existed (format version 1) are accepted without the file check.
ResumePoint verify_checkpoint(const std::string& checkpoint);

}  // namespace bertforge::train
