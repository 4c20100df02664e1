// Both merge loops on hand-made word counts (expected vocabularies worked out in the comments), and on
// random corpora against naive trainers that recount every pair at every step.
#include "bertforge/text/vocab_trainer.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "bertforge/util/progress.h"

using namespace bertforge::text;

namespace {

TrainerOptions options(TrainAlgorithm algorithm, std::size_t vocab_size, std::uint64_t min_frequency = 1) {
  bertforge::Progress::set_enabled(false);
  TrainerOptions o;
  o.algorithm = algorithm;
  o.vocab_size = vocab_size;
  o.min_frequency = min_frequency;
  o.limit_alphabet.reset();
  o.special_tokens = {"[UNK]"};
  return o;
}

using Vocab = std::vector<std::string>;

}  // namespace

// Alphabet a b c (code-point order) after the specials; words visited in byte order ("ab", "abc", "bc")
// give ##b then ##c. Pairs: (a,##b) 5+3, (##b,##c) 3, (b,##c) 1. Merging (a,##b) leaves (ab,##c) 3, then (b,##c) 1.
TEST(TrainHf, MergesByPairFrequency) {
  WordCounts counts{{"ab", 5}, {"abc", 3}, {"bc", 1}};
  EXPECT_EQ(train_vocab(counts, options(TrainAlgorithm::hf, 100)),
            (Vocab{"[UNK]", "a", "b", "c", "##b", "##c", "ab", "abc", "bc"}));
  // min_frequency 2 stops before the pair seen once.
  EXPECT_EQ(train_vocab(counts, options(TrainAlgorithm::hf, 100, 2)).back(), "abc");
  // vocab_size counts every token.
  EXPECT_EQ(train_vocab(counts, options(TrainAlgorithm::hf, 7)).size(), 7u);
}

// Equal counts go to the pair of smaller ids: (a,##b) = (1,5) before (c,##d) = (3,6).
TEST(TrainHf, TiesGoToTheSmallerPair) {
  WordCounts counts{{"cd", 2}, {"ab", 2}};
  EXPECT_EQ(train_vocab(counts, options(TrainAlgorithm::hf, 8)),
            (Vocab{"[UNK]", "a", "b", "c", "d", "##b", "##d", "ab"}));
}

// Unit counts a 8, ##b 8, ##c 4, b 1. Scores: (b,##c) 1/4 first; then ##c is 3 and (a,##b) 8/64 ties
// (##b,##c) 3/24: the smaller pair (a,##b); then (ab,##c) 3/(8*3).
TEST(TrainWordpiece, MergesByLikelihoodGain) {
  WordCounts counts{{"ab", 5}, {"abc", 3}, {"bc", 1}};
  EXPECT_EQ(train_vocab(counts, options(TrainAlgorithm::wordpiece, 100)),
            (Vocab{"[UNK]", "a", "b", "c", "##b", "##c", "bc", "ab", "abc"}));
  // With min_frequency 2 the rare (b,##c) is skipped, not the end: the others still merge.
  EXPECT_EQ(train_vocab(counts, options(TrainAlgorithm::wordpiece, 100, 2)),
            (Vocab{"[UNK]", "a", "b", "c", "##b", "##c", "ab", "abc"}));
}

// a 2, b 1, c 1: a limit of 2 keeps a and, of the tied b and c, the smaller code point. "c" vanishes.
TEST(TrainVocab, LimitAlphabetKeepsTheMostFrequent) {
  for (auto algorithm : {TrainAlgorithm::hf, TrainAlgorithm::wordpiece}) {
    auto o = options(algorithm, 5);
    o.limit_alphabet = 2;
    EXPECT_EQ(train_vocab({{"aab", 1}, {"c", 1}}, o), (Vocab{"[UNK]", "a", "b", "##a", "##b"}));
  }
}

TEST(TrainVocab, SpecialsFirstOnceAndMultibyteCharacters) {
  auto o = options(TrainAlgorithm::hf, 6);
  o.special_tokens = {"[PAD]", "[UNK]", "[PAD]"};
  EXPECT_EQ(train_vocab({{"éa", 3}}, o), (Vocab{"[PAD]", "[UNK]", "a", "é", "##a", "éa"}));
}

namespace {

// The naive trainers: segment every word, recount every pair at every step, take the best.
// HF's loop leaves a merged pair's count in place (see train_hf.cpp): its count is what is present now plus
// every occurrence it ever merged, so a pair that forms again wins at once.
Vocab naive(const WordCounts& counts, const TrainerOptions& o, const Vocab& start) {
  Vocab vocab = start;  // specials, alphabet and ## characters, as the trainer under test made them
  std::map<std::string, int> id;
  for (std::size_t i = 0; i < vocab.size(); ++i) id[vocab[i]] = static_cast<int>(i);
  std::vector<std::pair<std::vector<int>, std::int64_t>> words;
  for (const auto& [w, c] : counts) {
    std::vector<int> s;
    for (std::size_t i = 0; i < w.size(); ++i) s.push_back(id.at(i ? "##" + w.substr(i, 1) : w.substr(0, 1)));
    words.push_back({s, static_cast<std::int64_t>(c)});
  }
  std::map<std::pair<int, int>, std::int64_t> merged_before;
  while (vocab.size() < o.vocab_size) {
    std::map<std::pair<int, int>, std::int64_t> pairs;
    std::map<int, std::int64_t> units;
    for (const auto& [s, c] : words) {
      for (std::size_t k = 0; k < s.size(); ++k) units[s[k]] += c;
      for (std::size_t k = 0; k + 1 < s.size(); ++k) pairs[{s[k], s[k + 1]}] += c;
    }
    std::pair<int, int> best{-1, -1};
    double best_score = -1;
    for (const auto& [p, n] : pairs) {
      double score = o.algorithm == TrainAlgorithm::hf
                         ? static_cast<double>(n + merged_before[p])
                         : n < static_cast<std::int64_t>(o.min_frequency) ? -1 : double(n) / (double(units[p.first]) * units[p.second]);
      if (score > best_score) best_score = score, best = p;
    }
    if (best.first < 0 || best_score < 0 ||
        (o.algorithm == TrainAlgorithm::hf && best_score < static_cast<double>(o.min_frequency)))
      break;
    std::string right = vocab[best.second];
    std::string token = vocab[best.first] + (right.rfind("##", 0) == 0 ? right.substr(2) : right);
    if (!id.count(token)) id[token] = static_cast<int>(vocab.size()), vocab.push_back(token);
    for (auto& [s, c] : words) {
      std::vector<int> out;
      for (std::size_t k = 0; k < s.size();)
        if (k + 1 < s.size() && s[k] == best.first && s[k + 1] == best.second)
          out.push_back(id[token]), k += 2, merged_before[best] += c;
        else
          out.push_back(s[k++]);
      s = out;
    }
  }
  return vocab;
}

// Words over a small alphabet with Zipf-like counts: many ties, repeated letters, tokens reachable by
// several merge orders.
WordCounts random_counts(unsigned seed) {
  std::mt19937 rng(seed);
  WordCounts counts;
  for (int i = 0; i < 60; ++i) {
    std::string w;
    int len = 1 + static_cast<int>(rng() % 6);
    for (int k = 0; k < len; ++k) w += static_cast<char>('a' + rng() % 4);
    counts[w] += 1 + rng() % 5 * (rng() % 3);
  }
  return counts;
}

}  // namespace

TEST(TrainVocab, MatchesNaiveTrainersOnRandomCorpora) {
  for (auto algorithm : {TrainAlgorithm::hf, TrainAlgorithm::wordpiece})
    for (unsigned seed = 0; seed < 40; ++seed)
      for (std::uint64_t min_frequency : {1, 3}) {
        auto counts = random_counts(seed);
        auto o = options(algorithm, 60, min_frequency);
        Vocab got = train_vocab(counts, o);
        auto start = options(algorithm, 0, min_frequency);
        Vocab expected = naive(counts, o, train_vocab(counts, start));
        ASSERT_EQ(got, expected) << "seed " << seed << " min_frequency " << min_frequency
                                 << (algorithm == TrainAlgorithm::hf ? " hf" : " wordpiece");
      }
}
