// HF datasets interop: prepared shards <-> `datasets.save_to_disk` folders.
//
// export_hf writes the layout datasets.load_from_disk reads: data-00000-of-0000N.arrow (Arrow IPC stream,
// about 500 MB each, record batches of 1000 rows as HF writes them), state.json and dataset_info.json, with
// the reference's column types: input_ids list<int32>, token_type_ids list<int8>, attention_mask list<int8>
// and next_sentence_label (or sentence_order_label) int64. Rows are unpadded (attention_mask all ones):
// HF's DataCollatorForLanguageModeling pads per batch. Written under a temporary folder name, then renamed.
// import_hf reads such a folder — from export_hf or from the reference's own wikiTokenizedValid.hf, padded
// or not — into a prepared folder: trailing attention_mask 0 positions are dropped, token_type_ids must be
// 0...0 1...1 over the unpadded part. Anything else (ids outside the vocabulary, a mask with holes, a missing
// input_ids column, a truncated Arrow file) is an Error naming the file and row.
// import then export gives back the same rows (padding removed); export then import the same shards.
// Both build their output under a temporary name and swap it in when complete (as prepare.h says): a folder
// that already holds a dataset of that kind is replaced only with `overwrite`, any other non-empty one never.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "bertforge/data/shard.h"
#include "bertforge/text/tokenizer.h"

namespace bertforge::data {

// True for an HF save_to_disk folder whose data has an input_ids column.
bool is_tokenized_hf(const std::string& dir);

// Returns the manifest's extra keys (options, statistics) as written.
// `tokenizer`, when given, has its files saved into the output too (text::save_pretrained), as prepare does.
nlohmann::json import_hf(const std::string& hf_dir, const std::string& output, ShardMeta meta, bool overwrite = false,
                         const text::Tokenizer* tokenizer = nullptr, int max_seq_length = 128);

// Fails unless `hf_dir` may receive an HF dataset folder: call before any work that precedes the export.
void check_export_output(const std::string& hf_dir, bool overwrite);
void export_hf(const ShardSet& shards, const std::string& hf_dir, bool overwrite = false);

}  // namespace bertforge::data
