// Fine-tuning files -> LabelledExamples (labelled.h), as HF's run_glue.py, run_classification.py and
// run_ner.py read and tokenize them. tests/data/labelled_files_test.cpp holds every format here to HF, id for id
// and label for label, through the golden cases tools/gen_golden/finetune_data.py makes with HF (which
// tests/python/test_finetune_data.py keeps fresh).
//
// Formats, by name:
//   task_name set    a GLUE task's TSV file as distributed (train.tsv, dev.tsv, dev_matched.tsv, ...): the
//                    task fixes the columns, the header and the label names, as HF datasets' glue script:
//       task   header  text          pair          label         labels (id order)
//       cola   none    4th column    -             2nd column    unacceptable acceptable
//       sst2   yes     sentence      -             label         negative positive
//       mrpc   yes     #1 String     #2 String     Quality       not_equivalent equivalent
//       stsb   yes     sentence1     sentence2     score         a float: regression
//       qqp    yes     question1     question2     is_duplicate  not_duplicate duplicate
//       mnli   yes     sentence1     sentence2     gold_label    entailment neutral contradiction
//       qnli   yes     question      sentence      label         entailment not_entailment
//       rte    yes     sentence1     sentence2     label         entailment not_entailment
//       wnli   yes     sentence1     sentence2     label         not_entailment entailment
//                    Fields are split at tabs, quotes are plain characters (csv.QUOTE_NONE); a label is a
//                    name above or its id. Rows that lack a field or a label are left out and an empty text
//                    field is an empty text, as HF does. Test files (no label column) are not read.
//                    task_name with a file of another format (below) reads HF's own glue layout, as run_glue.py
//                    does with --task_name: task_to_keys' text columns (mnli: premise, hypothesis; mrpc:
//                    sentence1, sentence2; the others as the table), "label" a class id or name (stsb: a score).
//   .csv / .tsv      a header row, RFC 4180 quoting (pandas.read_csv, which HF's csv loader runs); an empty
//                    field (or "NA", "null", ... pandas' missing values) is missing; the label column's type is
//                    inferred as pandas does: all integers, all numbers, or strings.
//   .jsonl / .json   one JSON object per line (HF's json loader): columns as the objects have them, typed.
//   .parquet         an Arrow-typed table; a folder with state.json: an HF save_to_disk dataset. A label
//                    column that is a datasets ClassLabel (dataset_info.json, or the Parquet file's
//                    "huggingface" metadata) keeps its names and ids.
//   token tasks      any of the above with a list of words and a list of tags per row, or a CoNLL-2003 file
//                    (any other name): `word ... tag` per line, tag in the last column, a blank line between
//                    sentences, -DOCSTART- lines skipped.
//
// Columns left unset take run_glue.py's defaults: label "label"; text and pair sentence1 and sentence2
// when both exist, else the first two other columns, else the first alone. Token tasks take run_ner.py's:
// "tokens" else the first column, "ner_tags" else the second.
//
// Labels (run_glue.py): a float label column means regression; otherwise the labels of the training file,
// sorted (integers as numbers, strings as bytes), are the classes, unless the file names them (GLUE,
// ClassLabel). A list column means multi-label (run_classification.py: names sorted as strings, a 0/1 row
// per class); `multi_label` makes a CSV/TSV label string a comma-separated list. Token tags: run_ner.py.
//
// Encoding: sequence tasks exactly HF tokenizer(text[, pair], truncation=True, max_length=max_seq_length);
// token tasks exactly tokenizer(words, is_split_into_words=True, truncation=True, max_length=...) with
// run_ner.py's tokenize_and_align_labels: a word's first piece carries its tag, its other pieces and the
// special tokens kIgnoreIndex, or with label_all_tokens the word's tag (B-X as I-X where I-X exists).
// No padding: rows are as long as their tokens.
//
// Bad input is an Error of one line, "file:line: ..." (row for Parquet/HF), naming the column: a missing
// column (and the columns there are), a row without text, text that is not UTF-8, a label the training file
// did not have, a regression label that is not a number, a CoNLL line without a tag.
#pragma once
#include <string>

#include "bertforge/data/labelled.h"
#include "bertforge/text/tokenizer.h"

namespace bertforge::data {

struct LabelledFileOptions {
  std::string task_name;         // a GLUE task (the table above); "" for any other file
  std::string text_column;       // "" = the defaults above
  std::string text_pair_column;  // "" = the defaults above; "-" = no pair even where the default finds one
  std::string label_column;      // "" = "label" (sequence tasks) or run_ner's default (token tasks)
  bool token_classification = false;  // run_ner.py's words and tags instead of run_glue.py's sentences
  bool multi_label = false;           // CSV/TSV: the label is a comma-separated list of names
  bool label_all_tokens = false;      // run_ner.py --label_all_tokens
  int max_seq_length = 128;           // at least 2 ([CLS] and [SEP])
  int threads = 0;                    // tokenizing threads; 0 = every hardware thread
};

// Reads and encodes one file. Without `train`, it is a training file: its labels make the label list
// (returned as label_names, HF's id2label). With `train` (the training file's result, or any LabelledExamples
// holding the problem and label_names a model was trained with), only its problem and label_names are read:
// this file is labelled with them and a label outside them is an Error.
//   auto train = read_labelled(train_path, tokenizer, options);
//   auto valid = read_labelled(valid_path, tokenizer, options, &train);
LabelledExamples read_labelled(const std::string& path, const text::Tokenizer& tokenizer,
                               const LabelledFileOptions& options, const LabelledExamples* train = nullptr);

}  // namespace bertforge::data
