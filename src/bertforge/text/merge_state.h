// Internal to the vocabulary trainers (vocab_trainer.cpp, train_hf.cpp, train_wordpiece.cpp): the state both
// merge loops share. It owns the growing vocabulary, every distinct word as a sequence of token ids with its
// count, and the corpus-wide count of each adjacent pair and of each token, kept current as pairs merge.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "bertforge/text/vocab_trainer.h"

namespace bertforge::text::detail {

// An adjacent pair of token ids (left, right) as one key; ordering keys orders by left id, then right id.
using Pair = std::uint64_t;
inline Pair make_pair_key(std::uint32_t left, std::uint32_t right) {
  return (static_cast<Pair>(left) << 32) | right;
}
inline std::uint32_t left_of(Pair p) { return static_cast<std::uint32_t>(p >> 32); }
inline std::uint32_t right_of(Pair p) { return static_cast<std::uint32_t>(p); }

class MergeState {
 public:
  // Specials, then the alphabet sorted by code point, then every word split into alphabet characters (the
  // non-initial ones prefixed) with each prefixed character added to the vocabulary when first met; words
  // are visited in byte order so ids do not depend on the map's order. Characters outside a limited alphabet
  // are dropped from the words, as HF does. Then every adjacent pair is counted.
  MergeState(const WordCounts& counts, const TrainerOptions& options);

  const std::vector<std::string>& vocab() const { return id_to_token_; }
  std::size_t vocab_size() const { return id_to_token_.size(); }

  // Id of the token left + right (right without its prefix), added to the vocabulary when new.
  std::uint32_t add_merged(Pair pair);

  // Replaces every occurrence of `pair` by `merged` in the words holding it and updates the counts, except
  // the count of `pair` itself, which the caller settles (HF keeps it, see train_hf.cpp). Returns the pairs
  // that gained occurrences, each once.
  std::vector<Pair> merge(Pair pair, std::uint32_t merged);

  std::int64_t pair_count(Pair p) const;
  void forget_pair(Pair p) { pair_counts_.erase(p); }
  const std::unordered_map<Pair, std::int64_t>& pair_counts() const { return pair_counts_; }
  // Occurrences of a token in the corpus as currently segmented.
  std::int64_t token_count(std::uint32_t id) const { return id < token_counts_.size() ? token_counts_[id] : 0; }

 private:
  std::uint32_t add_token(const std::string& token);
  void add_alphabet(const WordCounts& counts, const TrainerOptions& options);
  void add_words(const WordCounts& counts, const std::string& prefix);
  void merge_word(std::uint32_t w, std::uint32_t a, std::uint32_t b, std::uint32_t merged,
                  std::vector<Pair>& grown);
  void change(Pair p, std::uint32_t w, int delta, std::vector<Pair>* grown);

  std::string prefix_;
  std::vector<std::string> id_to_token_;
  std::unordered_map<std::string, std::uint32_t> token_to_id_;
  // Word w is symbols_[begin_[w], begin_[w] + length_[w]); merging shortens it in place.
  std::vector<std::uint32_t> symbols_;
  std::vector<std::size_t> begin_;
  std::vector<std::uint32_t> length_;
  std::vector<std::uint64_t> word_counts_;
  std::unordered_map<Pair, std::int64_t> pair_counts_;
  // The words that hold (or once held) each pair; may name words that no longer do.
  std::unordered_map<Pair, std::vector<std::uint32_t>> where_;
  std::vector<std::int64_t> token_counts_;
};

}  // namespace bertforge::text::detail

namespace bertforge {
class Progress;
}

namespace bertforge::text::detail {

// The two merge loops: grow state's vocabulary to options.vocab_size (or until no pair qualifies),
// reporting the vocabulary size to `progress`.
void merge_by_frequency(MergeState& state, const TrainerOptions& options, Progress& progress);   // train_hf.cpp
void merge_by_likelihood(MergeState& state, const TrainerOptions& options, Progress& progress);  // train_wordpiece.cpp

}  // namespace bertforge::text::detail
