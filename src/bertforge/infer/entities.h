// The entities of a BertForTokenClassification output, as transformers' pipeline("token-classification",
// aggregation_strategy="simple") returns them (pipelines/token_classification.py, transformers 5.24):
//   - the tokens added around the text ([CLS], [SEP], padding: offsets (0, 0)) are dropped;
//   - each other token takes its argmax label (the first on a tie, as NumPy) and that label's probability;
//   - adjacent tokens group while the label's type (after "B-"/"I-"; a label without either prefix is its own
//     type, read as "I-") stays the same and the token is not a "B-"; "O" tokens group too, and break others;
//   - a group is {entity_group: its first label after the first "-", score: the mean of its tokens' scores,
//     word: convert_tokens_to_string of its tokens (an [UNK] contributes the original text it covers),
//     start: the first token's start, end: the last token's end}; groups named "O" are left out (HF's
//     ignore_labels default).
// start and end count code points (Python str indices), as HF; byte_start and byte_end are the same in bytes.
// No LibTorch: the probabilities come in as floats.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bertforge/text/tokenizer.h"

namespace bertforge::infer {

struct Entity {
  std::string entity_group;
  // HF's float32 mean, bit for bit (NumPy's summation order), held in a double so that JSON writes it as
  // Python's float(score) does.
  double score;
  std::string word;
  std::uint32_t start, end;            // code points of the text
  std::uint32_t byte_start, byte_end;  // bytes of the text
};

// text: what `encoding` was made from, by Tokenizer::encode_plus(text) with return_offsets_mapping (one text;
// HF's pipeline truncates it to model_max_length, Truncation::longest_first); probabilities: row-major [tokens][labels], the softmax of the logits
// over the labels, one row per id of the encoding (padding rows are ignored); id2label: the labels by id.
// Throws Error when the sizes disagree or the encoding has no offsets.
std::vector<Entity> simple_entities(std::string_view text, const text::Encoding& encoding,
                                    const std::vector<float>& probabilities,
                                    const std::vector<std::string>& id2label, const text::Tokenizer& tokenizer);

// HF's output shape, its keys in HF's order: [{"entity_group", "score", "word", "start", "end"}, ...].
nlohmann::ordered_json to_json(const std::vector<Entity>& entities);

}  // namespace bertforge::infer
