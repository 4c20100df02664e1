// The files of a checkpoint folder, output_dir/checkpoint-<step>/ (checkpoint.h: how it is written safely): the
// one list of what a checkpoint holds and who writes each file. HF's BertForPreTraining.from_pretrained and
// AutoTokenizer.from_pretrained load the folder as it is.
//
//   config.json, model.safetensors   the model, as HF's save_pretrained writes it (model/pretrained.h)
//   vocab.txt, tokenizer.json,       the tokenizer, when the run knows it (text/save_tokenizer.h)
//   tokenizer_config.json, special_tokens_map.json
//   optimizer_state.pt               Optimizer::save: a LibTorch archive of its format version, the update
//                                    rule, and each parameter's step and moments (train/optimizer.h)
//   rng_state.pt                     the CPU generator's state and each CUDA device's (checkpoint.h)
//   training_args.json               the run's TrainingArguments, HF's names (training_args.h)
//   trainer_state.json               HF's TrainerState: step, epoch, log_history, best metric (trainer_state.h)
//   bertforge_state.json             the resume point: phase, the loader's position, the learning-rate scale,
//                                    and the size and CRC-32 of every other file (resume_point.h)
//
// The learning-rate schedule has no file: it is a function of the step (schedule.h), recomputed on resume.
// trainer_state.json is also written into output_dir itself at the end of a run, beside the final model.
#pragma once

namespace bertforge::train::checkpoint_files {

inline constexpr const char* kConfig = "config.json";
inline constexpr const char* kModel = "model.safetensors";
inline constexpr const char* kOptimizer = "optimizer_state.pt";
inline constexpr const char* kRngState = "rng_state.pt";
inline constexpr const char* kTrainingArgs = "training_args.json";
inline constexpr const char* kTrainerState = "trainer_state.json";
inline constexpr const char* kResumePoint = "bertforge_state.json";

}  // namespace bertforge::train::checkpoint_files
