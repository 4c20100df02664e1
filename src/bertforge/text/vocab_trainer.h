// Learning a WordPiece vocabulary from word counts (what `bertforge train-tokenizer` runs after counting).
//
// Both algorithms start alike: the special tokens, then the alphabet (every character seen, or the
// `limit_alphabet` most frequent), then every word split into characters, the non-initial ones carrying the
// `##` prefix. They then merge adjacent pieces until the vocabulary holds `vocab_size` tokens:
//   hf        — what HF tokenizers' WordPieceTrainer does (it is its BpeTrainer): the most frequent pair,
//               ties to the pair of smaller ids; stops when the best pair is rarer than `min_frequency`.
//   wordpiece — likelihood gain: the pair maximising count(ab) / (count(a) · count(b)), ties to the pair of
//               smaller ids; pairs rarer than `min_frequency` are never merged.
// The result is the vocabulary in id order. It is deterministic: the same counts give the same vocabulary,
// whatever order the map holds them in. Counts are 64-bit throughout. If the specials and the alphabet alone
// exceed vocab_size nothing is merged and the vocabulary is larger than asked (as in HF).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bertforge/text/word_counts.h"

namespace bertforge::text {

enum class TrainAlgorithm { hf, wordpiece };

struct TrainerOptions {
  TrainAlgorithm algorithm = TrainAlgorithm::hf;
  // Tokens in the final vocabulary, specials and alphabet included.
  std::size_t vocab_size = 30000;
  // A pair seen fewer times (summed over the corpus) is never merged.
  std::uint64_t min_frequency = 2;
  // Keep only this many characters, the most frequent (ties to the smaller code point); nullopt: all.
  std::optional<std::size_t> limit_alphabet = 1000;
  // First in the vocabulary, in this order, duplicates dropped.
  std::vector<std::string> special_tokens{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  // Marks a piece that continues a word.
  std::string prefix = "##";
};

// Shows progress (util/progress.h) over the merges.
std::vector<std::string> train_vocab(const WordCounts& counts, const TrainerOptions& options);

}  // namespace bertforge::text
