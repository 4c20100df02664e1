#include <gtest/gtest.h>

#include <cmath>

#include "bertforge/data/collator.h"

using namespace bertforge::data;

namespace {

constexpr int kVocab = 1000;
const SpecialIds kSpecial{101, 102, 0, 103, 100};

// rows sequences of varying length: [CLS] words [SEP] words [SEP], word ids in [200, kVocab).
Examples make_batch(int rows, std::uint64_t seed) {
  Rng rng(seed);
  Examples ex;
  for (int i = 0; i < rows; ++i) {
    std::vector<std::int32_t> a(5 + rng.below(60)), b(3 + rng.below(50));
    for (auto& id : a) id = 200 + rng.below(kVocab - 200);
    for (auto& id : b) id = 200 + rng.below(kVocab - 200);
    a[0] = kSpecial.unk;  // an [UNK] inside the text is never masked either
    ex.add(a.data(), a.size(), b.data(), b.size(), true, i % 2, kSpecial);
  }
  return ex;
}

// Binomial bounds: |count - n p| <= 5 standard deviations.
void expect_binomial(std::int64_t count, std::int64_t n, double p, const char* what) {
  const double sd = std::sqrt(n * p * (1 - p));
  EXPECT_NEAR(count, n * p, 5 * sd) << what << ": " << count << " of " << n;
}

}  // namespace

TEST(Collator, HfMaskingStatisticsAndExactRelation) {
  Examples ex = make_batch(400, 1);
  MlmCollator collator(kSpecial, kVocab, SentenceTask::nsp, {}, 7);
  Batch b = collator.collate(ex);
  const std::int64_t width = b.input_ids.size(1);
  auto input = b.input_ids.accessor<std::int64_t, 2>();
  auto labels = b.labels.accessor<std::int64_t, 2>();
  auto attention = b.attention_mask.accessor<std::int64_t, 2>();
  auto types = b.token_type_ids.accessor<std::int64_t, 2>();
  std::int64_t candidates = 0, selected = 0, masked = 0, random = 0, kept = 0;
  for (std::size_t i = 0; i < ex.size(); ++i) {
    const std::int64_t n = ex.ends[i] - ex.begin_of(i);
    for (std::int64_t k = 0; k < width; ++k) {
      if (k >= n) {  // padding: never a label, pad id, no attention
        EXPECT_EQ(labels[i][k], -100);
        EXPECT_EQ(input[i][k], kSpecial.pad);
        EXPECT_EQ(attention[i][k], 0);
        continue;
      }
      const std::int32_t original = ex.ids[ex.begin_of(i) + k];
      EXPECT_EQ(attention[i][k], 1);
      EXPECT_EQ(types[i][k], k >= ex.type0[i] ? 1 : 0);
      ASSERT_GE(input[i][k], 0);
      ASSERT_LT(input[i][k], kVocab);
      if (kSpecial.contains(original)) {
        EXPECT_EQ(labels[i][k], -100);
        EXPECT_EQ(input[i][k], original);
        continue;
      }
      ++candidates;
      if (labels[i][k] == -100) {
        EXPECT_EQ(input[i][k], original);  // unselected tokens are untouched
        continue;
      }
      EXPECT_EQ(labels[i][k], original);
      ++selected;
      if (input[i][k] == kSpecial.mask) ++masked;
      else if (input[i][k] == original) ++kept;
      else ++random;
    }
  }
  expect_binomial(selected, candidates, 0.15, "selected");
  expect_binomial(masked, selected, 0.8, "[MASK]");
  // A random draw equal to the original counts as kept: P(random) = 0.1 (1 - 1/vocab).
  expect_binomial(random, selected, 0.1 * (1 - 1.0 / kVocab), "random");
  expect_binomial(kept, selected, 0.1 + 0.1 / kVocab, "kept");
  EXPECT_EQ(b.sentence_label_name, "next_sentence_label");
  EXPECT_EQ(b.sentence_label[1].item<std::int64_t>(), 1);
  EXPECT_EQ(b.input_ids.scalar_type(), at::kLong);
}

TEST(Collator, RandomIdsCoverTheWholeVocabulary) {
  // Every id of a small vocabulary, specials included, shows up as a random replacement (HF draws from
  // len(tokenizer)).
  const SpecialIds sp{1, 2, 0, 3, 4};
  CollatorOptions o;
  o.mlm_probability = 1.0;
  o.mask_replace_prob = 0.0;
  o.random_replace_prob = 1.0;
  MlmCollator collator(sp, 16, SentenceTask::none, o, 3);
  Examples ex;
  std::vector<std::int32_t> a(200, 9);
  ex.add(a.data(), a.size(), nullptr, 0, false, -1, sp);
  Batch b = collator.collate(ex);
  std::vector<int> seen(16);
  for (std::int64_t k = 1; k <= 200; ++k) seen.at(b.input_ids[0][k].item<std::int64_t>()) = 1;
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), 16);
  EXPECT_FALSE(b.sentence_label.defined());
}

TEST(Collator, PadToMultipleOfAndStateRestore) {
  Examples ex = make_batch(8, 2);
  CollatorOptions o;
  o.pad_to_multiple_of = 64;
  MlmCollator collator(kSpecial, kVocab, SentenceTask::nsp, o, 5);
  const auto saved = collator.state();
  Batch first = collator.collate(ex);
  EXPECT_EQ(first.input_ids.size(1) % 64, 0);
  Batch other = collator.collate(ex);
  EXPECT_FALSE(at::equal(first.input_ids, other.input_ids));
  collator.set_state(saved);
  Batch again = collator.collate(ex);
  EXPECT_TRUE(at::equal(first.input_ids, again.input_ids));
  EXPECT_TRUE(at::equal(first.labels, again.labels));
}

TEST(Collator, WholeWordMaskingTakesWholeWords) {
  // ids >= 500 are "##" pieces: each word is one head id < 500 followed by 0-3 pieces.
  std::vector<bool> continuation(kVocab);
  for (int id = 500; id < kVocab; ++id) continuation[id] = true;
  CollatorOptions o;
  o.whole_word_mask = true;
  MlmCollator collator(kSpecial, kVocab, SentenceTask::nsp, o, 9, continuation);
  Rng rng(4);
  Examples ex;
  for (int i = 0; i < 50; ++i) {
    std::vector<std::int32_t> a;
    while (a.size() < 100) {
      a.push_back(200 + rng.below(300));
      for (std::uint64_t p = rng.below(4); p > 0; --p) a.push_back(500 + rng.below(500));
    }
    ex.add(a.data(), a.size(), a.data(), 3, true, 0, kSpecial);
  }
  Batch b = collator.collate(ex);
  auto labels = b.labels.accessor<std::int64_t, 2>();
  for (std::size_t i = 0; i < ex.size(); ++i) {
    const std::int64_t n = ex.ends[i] - ex.begin_of(i);
    std::int64_t count = 0;
    for (std::int64_t k = 1; k < n; ++k) {
      const std::int32_t id = ex.ids[ex.begin_of(i) + k];
      count += labels[i][k] != -100;
      if (continuation[id] && !kSpecial.contains(ex.ids[ex.begin_of(i) + k - 1]))  // a piece goes with its word
        EXPECT_EQ(labels[i][k] != -100, labels[i][k - 1] != -100) << "row " << i << " pos " << k;
    }
    EXPECT_LE(count, std::lround(n * 0.15));
    EXPECT_GE(count, std::lround(n * 0.15) - 3);  // words are at most 4 tokens long
  }
}

TEST(Collator, WholeWordBudgetRoundsHalvesToEvenAsPython) {
  std::vector<bool> continuation(kVocab);  // every token a word of its own: the budget is met exactly
  std::vector<std::int32_t> a{200, 201, 202, 203}, b{204, 205, 206};
  Examples ex;
  ex.add(a.data(), a.size(), b.data(), b.size(), true, 0, kSpecial);  // [CLS] 4 [SEP] 3 [SEP]: 10 tokens
  for (auto [p, want] : {std::pair{0.25, 2}, {0.45, 4}}) {  // round(2.5) == 2, round(4.5) == 4
    CollatorOptions o;
    o.whole_word_mask = true;
    o.mlm_probability = p;
    MlmCollator collator(kSpecial, kVocab, SentenceTask::nsp, o, 3, continuation);
    EXPECT_EQ((collator.collate(ex).labels != -100).sum().item<std::int64_t>(), want) << p;
  }
}
