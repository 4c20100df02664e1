#include <gtest/gtest.h>

#include <cmath>

#include "bertforge/data/pairs.h"

using namespace bertforge::data;

namespace {

// Document d, sentence s holds ids 10000 + 1000 d + 10 s + k, so every token names its place.
TokenizedDocuments make_docs(const std::vector<std::vector<int>>& lengths) {
  TokenizedDocuments docs;
  for (std::size_t d = 0; d < lengths.size(); ++d) {
    for (std::size_t s = 0; s < lengths[d].size(); ++s) {
      std::vector<std::int32_t> sentence;
      for (int k = 0; k < lengths[d][s]; ++k) sentence.push_back(10000 + 1000 * d + 10 * s + k % 10);
      docs.add_sentence(sentence);
    }
    docs.end_document();
  }
  return docs;
}

struct Seq {
  std::vector<std::int32_t> a, b;
  int label;
};

std::vector<Seq> unpack(const Examples& ex, const SpecialIds& sp = {}) {
  std::vector<Seq> out;
  for (std::size_t i = 0; i < ex.size(); ++i) {
    std::vector<std::int32_t> ids(ex.ids.begin() + ex.begin_of(i), ex.ids.begin() + ex.ends[i]);
    EXPECT_EQ(ids.front(), sp.cls);
    EXPECT_EQ(ids.back(), sp.sep);
    EXPECT_EQ(ids[ex.type0[i] - 1], sp.sep);
    Seq s{{ids.begin() + 1, ids.begin() + ex.type0[i] - 1}, {}, ex.labels.empty() ? -1 : ex.labels[i]};
    if (ex.type0[i] < ids.size()) s.b.assign(ids.begin() + ex.type0[i], ids.end() - 1);
    out.push_back(s);
  }
  return out;
}

int doc_of(std::int32_t id) { return (id - 10000) / 1000; }
int sentence_of(std::int32_t id) { return (id - 10000) % 1000 / 10; }

}  // namespace

TEST(Pairs, SentenceStrategySuccessorOrRandomDocument) {
  std::vector<std::vector<int>> lengths(40, std::vector<int>(6, 5));
  auto docs = make_docs(lengths);
  PairOptions o;
  Rng rng(1);
  Examples ex;
  build_examples(docs, o, rng, ex);
  auto seqs = unpack(ex);
  ASSERT_EQ(seqs.size(), 40u * 5);  // every sentence with a successor
  int random = 0;
  for (const auto& s : seqs) {
    ASSERT_EQ(s.a.size(), 5u);
    if (s.label == 0) {
      EXPECT_EQ(doc_of(s.b[0]), doc_of(s.a[0]));
      EXPECT_EQ(sentence_of(s.b[0]), sentence_of(s.a[0]) + 1);
    } else {
      EXPECT_NE(doc_of(s.b[0]), doc_of(s.a[0]));
      ++random;
    }
  }
  // p = 0.5 over 200 draws: 4.5 standard deviations is ±32.
  EXPECT_NEAR(random, 100, 32);
}

TEST(Pairs, TruncatesLongPairsToMaxSeqLength) {
  auto docs = make_docs({{300, 20, 90}, {7, 200}});
  for (auto strategy : {PairStrategy::sentence, PairStrategy::segment}) {
    PairOptions o;
    o.strategy = strategy;
    o.max_seq_length = 64;
    Rng rng(7);
    Examples ex;
    build_examples(docs, o, rng, ex);
    ASSERT_GT(ex.size(), 0u);
    for (std::size_t i = 0; i < ex.size(); ++i) EXPECT_LE(ex.ends[i] - ex.begin_of(i), 64u);
  }
}

TEST(Pairs, SegmentStrategyPacksContiguousSentences) {
  std::vector<std::vector<int>> lengths(30, std::vector<int>(12, 9));
  auto docs = make_docs(lengths);
  PairOptions o;
  o.strategy = PairStrategy::segment;
  Rng rng(3);
  Examples ex;
  build_examples(docs, o, rng, ex);
  int random = 0, long_pairs = 0;
  for (const auto& s : unpack(ex)) {
    for (std::size_t k = 1; k < s.a.size(); ++k)  // A is contiguous text of one document
      EXPECT_EQ(doc_of(s.a[k]), doc_of(s.a[0]));
    if (s.label == 0) EXPECT_EQ(sentence_of(s.b[0]), sentence_of(s.a.back()) + 1);
    random += s.label;
    long_pairs += s.a.size() + s.b.size() >= 100;
  }
  EXPECT_GT(random, 0);
  EXPECT_GT(long_pairs, static_cast<int>(ex.size()) / 2);  // most reach the 125-token target
}

TEST(Pairs, SameSeedSameOutputOtherSeedOther) {
  auto docs = make_docs({{5, 6, 7, 8}, {9, 3, 4}, {12, 2, 2, 2, 2}});
  auto run = [&](std::uint64_t seed) {
    Rng rng(seed);
    Examples ex;
    build_examples(docs, PairOptions{}, rng, ex);
    return ex.ids;
  };
  EXPECT_EQ(run(5), run(5));
  bool differs = false;
  for (int seed = 6; seed < 16 && !differs; ++seed) differs = run(seed) != run(5);
  EXPECT_TRUE(differs);
}

TEST(Pairs, SentenceOrderPredictionSwaps) {
  std::vector<std::vector<int>> lengths(10, std::vector<int>(8, 4));
  auto docs = make_docs(lengths);
  PairOptions o;
  o.task = SentenceTask::sop;
  Rng rng(11);
  Examples ex;
  build_examples(docs, o, rng, ex);
  int swapped = 0;
  for (const auto& s : unpack(ex)) {
    EXPECT_EQ(doc_of(s.a[0]), doc_of(s.b[0]));
    EXPECT_EQ(sentence_of(s.label ? s.a[0] : s.b[0]), sentence_of(s.label ? s.b[0] : s.a[0]) + 1);
    swapped += s.label;
  }
  EXPECT_NEAR(swapped, 35, 25);
}

TEST(Pairs, NoNspPacksWholeDocumentsInOrder) {
  auto docs = make_docs({{50, 50, 50, 300, 3}, {4}});
  PairOptions o;
  o.task = SentenceTask::none;
  Rng rng(1);
  Examples ex;
  build_examples(docs, o, rng, ex);
  EXPECT_TRUE(ex.labels.empty());
  std::vector<std::int32_t> joined;
  for (const auto& s : unpack(ex)) {
    EXPECT_TRUE(s.b.empty());
    EXPECT_LE(s.a.size(), 126u);
    joined.insert(joined.end(), s.a.begin(), s.a.end());
  }
  EXPECT_EQ(joined, docs.ids);
}
