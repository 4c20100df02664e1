// `bertforge pretrain` as a library call: model + data + TrainingArguments (+ an optional multi-phase
// recipe) -> a run in output_dir, started fresh or resumed from a checkpoint.
//
// The model comes from a preset name (Google's sizes; the vocabulary size is then taken from the data), a
// config.json (fresh weights), or an HF model folder such as an HF Trainer checkpoint-N (continued
// pre-training from its weights, and from its optimizer.pt when optim is an Adam or AdamW kind: the moments
// and step counts of PyTorch's Adam/AdamW carry over; the schedule starts afresh). Before any step: the data's vocabulary size must equal the model's, every
// special id must lie in the vocabulary, the longest sequence must fit max_position_embeddings, and the data
// must carry the columns training needs; otherwise an Error names the file and both values.
//
// Data: folders made by `bertforge prepare`, or HF save_to_disk datasets of token ids (input_ids,
// token_type_ids, attention_mask, next_sentence_label: the reference's wikiTokenizedValid.hf), imported once
// into output_dir/prepared/<name> (given --tokenizer for the vocabulary and special ids; ids outside it and
// missing columns are errors naming the file and row).
//
// Tokenizer: each checkpoint and the final model carry the tokenizer files (vocab.txt, tokenizer.json,
// tokenizer_config.json, special_tokens_map.json), as HF Trainer saves its tokenizer. It is --tokenizer when
// given, else the one `prepare` wrote beside the training data, else the model folder's; its vocabulary must
// be the one the data was prepared with (an Error names both otherwise). Without any, no tokenizer is saved.
//
// Masking (TrainingArguments::masking_keys) is saved in each checkpoint's training_args.json; resuming with
// other values is an Error naming the key, unless allow_masking_change. Whole-word masking reads the ##
// pieces from `tokenizer`, which must be the vocabulary the data was prepared with.
//
// Phases (NVIDIA's BERT recipe: seq 128 then 512): a recipe JSON {"phases": [{"train_data": ..., "eval_data":
// ..., <any TrainingArguments key>}, ...]} runs each phase in turn in one output_dir, each with its own data,
// batch, steps, schedule and a fresh optimizer, the model carried over; checkpoints count steps across phases
// and record the phase, so a resume continues inside the phase it stopped in.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "bertforge/train/training_args.h"

namespace bertforge::train {

struct PhaseSpec {
  std::string train_data, eval_data;
  nlohmann::json overrides = nlohmann::json::object();  // TrainingArguments keys for this phase
};

struct PretrainSpec {
  std::string model = "mini";
  std::string train_data, eval_data;  // prepared folders, or HF save_to_disk datasets of ids (need tokenizer)
  std::string tokenizer;              // vocab.txt or tokenizer folder: saved with checkpoints; needed for HF data
  TrainingArguments args;
  std::vector<PhaseSpec> phases;  // empty: one phase of train_data/eval_data with args
  std::string device = "auto";    // auto (CUDA when available), cpu, cuda, cuda:N
  bool quiet = false;
  bool verify_parameters = false;  // distributed: check that all ranks hold identical weights at start and each save
  std::string dump_batches;        // non-empty: every training micro-batch also written there (TrainerInputs)
  bool allow_masking_change = false;  // resume even if the checkpoint was trained with other masking settings
  bool dry_run = false;  // print the plan (steps, tokens, memory, disk, time of a few steps) and write nothing
};

// Reads {"phases": [...]} (and optionally "model"); keys are checked like TrainingArguments'.
void load_recipe(const std::string& path, PretrainSpec& spec);

// Runs the whole recipe; returns the process exit status: 0 when every phase finished, 128 + N when signal N
// (SIGINT/SIGTERM) stopped the run after saving a checkpoint. Option errors (a value out of range, an
// eval_strategy without eval data, in any phase) are UsageErrors thrown before anything is read or written.
int run_pretraining(const PretrainSpec& spec);

}  // namespace bertforge::train
