// The MLM collator: Examples -> a padded batch of LibTorch tensors with HF DataCollatorForLanguageModeling
// semantics (and HF's field names), masking at batch time.
//
// Masking (HF torch_mask_tokens): every token that is not special (SpecialIds::contains: [CLS] [SEP] [PAD]
// [MASK] [UNK], HF's all_special_ids) is selected with mlm_probability; labels hold the original id where
// selected and kIgnoreIndex (-100) elsewhere (padding included). Of the selected, mask_replace_prob become [MASK],
// random_replace_prob a uniform random id from the whole vocabulary [0, vocab_size) (specials included, as HF
// draws from len(tokenizer)), the rest stay unchanged.
// Whole-word masking (HF 4.x DataCollatorForWholeWordMask, after Google's create_pretraining_data.py): a word
// is a token plus the "##" pieces right after it, so each CJK character, which BERT's tokenizer splits off
// on its own, is a word; specials are never part of one. Words are visited in random order and taken while
// the masked count stays within max(1, round(length * mlm_probability)) (length counts the specials, as
// HF's does; round is Python's, halves to even); then mask/random/keep per token as above.
// Padding: to the batch's longest sequence, rounded up to pad_to_multiple_of; pad id, attention_mask 0,
// token_type_ids 0. All tensors are int64, shape [batch, length]; the sentence label [batch] when present.
// The collator's Rng state can be read and restored (state()/set_state()), so masking resumes exactly.
// With row_seeds, row i is masked from a generator seeded with row_seeds[i] instead: a sequence's masks then
// do not depend on the batch it lands in (the loader keys them by place in the epoch).
#pragma once
#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "bertforge/data/examples.h"
#include "bertforge/data/rng.h"

namespace bertforge::data {

struct CollatorOptions {
  bool mlm = true;                  // false: labels are the input ids (padding -100), nothing masked
  double mlm_probability = 0.15;
  double mask_replace_prob = 0.8;
  double random_replace_prob = 0.1;
  int pad_to_multiple_of = 0;       // 0: the batch's longest
  bool whole_word_mask = false;     // needs the continuation table
};

struct Batch {
  at::Tensor input_ids, token_type_ids, attention_mask, labels;
  at::Tensor sentence_label;     // undefined when there is no sentence task
  std::string sentence_label_name;  // "next_sentence_label" / "sentence_order_label" (HF's argument names)
};

class MlmCollator {
 public:
  // continuation[id]: the token is a "##" piece (only for whole_word_mask; may be empty otherwise).
  MlmCollator(SpecialIds special, int vocab_size, SentenceTask task, CollatorOptions options,
              std::uint64_t seed, std::vector<bool> continuation = {});
  Batch collate(const Examples& examples, const std::vector<std::uint64_t>& row_seeds = {});

  const Rng::State& state() const { return rng_.state(); }
  void set_state(const Rng::State& s) { rng_.set_state(s); }

 private:
  void select_tokens(const std::int32_t* ids, std::size_t n, std::uint8_t* selected);
  void select_words(const std::int32_t* ids, std::size_t n, std::uint8_t* selected);

  SpecialIds special_;
  int vocab_size_;
  SentenceTask task_;
  CollatorOptions o_;
  Rng rng_;
  std::vector<bool> continuation_;
};

}  // namespace bertforge::data
