// `bertforge finetune` as a library call: a pre-trained model + labelled files + TrainingArguments -> a
// fine-tuned BertForSequenceClassification or BertForTokenClassification in output_dir, started fresh or
// resumed, with the same Trainer, checkpoints, NaN policy, bf16, launch and progress as `pretrain`; HF's
// run_glue.py / run_classification.py / run_ner.py natively.
//
// The model: an HF folder or a bertforge run (its final model or a checkpoint-N): the encoder's weights are
// taken, the pre-training heads (cls.*) dropped with a one-line note, and the classifier initialised as HF
// does (after seeding with `seed`, as HF's scripts seed before building the model); a folder that already
// holds a classifier of the same labels continues from it. A preset name or config.json: fresh weights
// everywhere (a baseline without pre-training), the vocabulary size taken from the tokenizer.
// The tokenizer: --tokenizer, else the model folder's. The labels: the training file's (data/labelled_files.h);
// the validation file is read with them, so an unknown label there is an Error naming file, row and column.
// Checkpoints and the final model are HF folders: config.json (architectures, id2label, label2id,
// problem_type, finetuning_task), model.safetensors and the tokenizer, so pipeline() loads them as they are.
// With validation data, the run ends with an evaluation written to output_dir/eval_results.json (HF's
// trainer.save_metrics("eval", ...)).
#pragma once
#include <string>

#include "bertforge/data/labelled_files.h"
#include "bertforge/train/training_args.h"

namespace bertforge::train {

struct FinetuneSpec {
  std::string model;                   // HF folder, bertforge run or checkpoint, preset, or config.json
  std::string tokenizer;               // "" = the model folder's
  std::string train_file, validation_file;
  data::LabelledFileOptions data;      // task_name, columns, max_seq_length, token task ...
  TrainingArguments args;
  std::string device = "auto";
  bool quiet = false;
  std::string dump_batches;            // non-empty: every training micro-batch also written there
};

// The process exit status: 0 when finished, 128 + N when signal N stopped the run after saving a checkpoint.
int run_finetuning(const FinetuneSpec& spec);

}  // namespace bertforge::train
