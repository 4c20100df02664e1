// fill-mask: the top-k tokens, with probabilities, for each [MASK] of each text, as transformers'
// pipeline("fill-mask") computes them:
//   - the text is encoded with special tokens ([CLS] text [SEP]), no truncation;
//   - score = softmax over the whole vocabulary of the logits at the [MASK] (fp32), ranked by torch.topk;
//   - token_str = decode([token]); sequence = the input ids with that [MASK] replaced, padding dropped,
//     decoded skipping special tokens when the text has a single [MASK] and keeping them (the other [MASK]s
//     stay visible) when it has several.
// One difference, asked for by the issue: special tokens ([PAD] [UNK] [CLS] [SEP] [MASK]) are never among
// the predictions unless include_special is set. HF's pipeline ranks them like any token; bertforge takes
// the k best non-special tokens, with the same probabilities (the softmax still runs over every token), so
// whenever HF's top k hold no special token both give the same list.
// Texts are run in batches padded to the longest; the vocabulary projection runs only at [MASK] positions.
// Errors name the input (source:line): a text without [MASK], a text longer than max_position_embeddings.
// Answers (the word each [MASK] stands for, when the caller knows it) are ranked among the tokens that may
// be proposed: rank 1 is the top proposal; the score is the probability HF's pipeline gives it as a target.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bertforge/infer/model_dir.h"

namespace bertforge::infer {

struct FillMaskOptions {
  int top_k = 5;
  int batch_size = 32;
  bool include_special = false;  // rank special tokens too, exactly as HF's pipeline
};

struct Proposal {
  double score;
  std::int32_t token;
  std::string token_str, sequence;
};

struct Answer {
  std::string word;
  std::int32_t token;
  double score;
  std::int64_t rank;  // 1 = the top proposal
};

struct MaskFill {
  std::vector<Proposal> proposals;
  std::optional<Answer> answer;  // when the caller gave the word behind this [MASK]
};

// One text's results: one per [MASK], in text order.
using FillMaskResult = std::vector<MaskFill>;

// `source` names where the texts come from ("file.txt" -> errors say file.txt:<line>; "" -> "text <n>").
// `answers`: empty, or per text the words behind its [MASK]s in order (each must be one token of the vocabulary).
std::vector<FillMaskResult> fill_mask(ModelDir& m, const std::vector<std::string>& texts,
                                      const FillMaskOptions& options, const std::string& source = "",
                                      const std::vector<std::vector<std::string>>& answers = {});

// HF's output shape: a list of {score, token, token_str, sequence} for one [MASK], a list of such lists for
// several (answers are not part of it).
nlohmann::json to_json(const FillMaskResult& result);

}  // namespace bertforge::infer
