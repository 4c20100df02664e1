// The datasets `pretrain` and `evaluate` read, opened one way and checked against the model one way.
//
// A dataset is a folder made by `bertforge prepare`, or an HF save_to_disk dataset of token ids (input_ids,
// token_type_ids, attention_mask, next_sentence_label: the reference's wikiTokenizedValid.hf), imported once
// into `cache` with the special ids of `tokenizer` (a vocab.txt or tokenizer folder; ids outside it and
// missing columns are errors naming the file and row). Distributed: rank 0 imports while the others wait
// (the cache is shared, as checkpoints need).
//
// dataset_tokenizer: the tokenizer a dataset was made with: `given` (--tokenizer), else the one `prepare` (or
// the import) wrote beside the data, else the model folder's; null when there is none. Its vocabulary must be
// the data's (the hash prepare recorded), else an Error names both.
//
// check_fits_model: the checks HF leaves to a device-side assert in the middle of a run. The data's
// vocabulary size must equal the model's, every special id must lie in the vocabulary and the longest
// sequence must fit max_position_embeddings; otherwise an Error names the dataset and both values.
#pragma once
#include <memory>
#include <string>

#include "bertforge/data/shard.h"
#include "bertforge/dist/world.h"
#include "bertforge/model/config.h"
#include "bertforge/text/tokenizer.h"

namespace bertforge::eval {

std::shared_ptr<const data::ShardSet> open_dataset(const std::string& path, const std::string& tokenizer,
                                                   const std::string& cache, dist::World& world);

std::shared_ptr<const text::Tokenizer> dataset_tokenizer(const data::ShardSet& d, const std::string& path,
                                                         const std::string& given, const std::string& model_dir);

void check_fits_model(const data::ShardSet& d, const model::BertConfig& c, const std::string& path);

}  // namespace bertforge::eval
