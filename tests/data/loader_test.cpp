#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <filesystem>
#include <memory>
#include <numeric>
#include <set>

#include "bertforge/data/loader.h"
#include "bertforge/util/error.h"
#include "bertforge/util/messages.h"

using namespace bertforge::data;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kSequences = 103;

// Sequence i is [CLS] (5 + i) x (1 + i % 9) [SEP] 7 [SEP], so a batch row names the sequence it came from.
std::shared_ptr<const ShardSet> make_set() {
  auto dir = (fs::temp_directory_path() / "bf_loader").string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  ShardMeta meta{1, 1000, SentenceTask::nsp, {}};
  Examples ex;
  for (std::uint64_t i = 0; i < kSequences; ++i) {
    std::vector<std::int32_t> a(1 + i % 9, 5 + i), b{7};
    ex.add(a.data(), a.size(), b.data(), b.size(), true, i % 2, meta.special);
  }
  ShardWriter w(dir, meta, 300);
  w.add(ex);
  write_manifest(dir, meta, w.finish(), nlohmann::json::object());
  return std::make_shared<const ShardSet>(dir);
}

std::vector<std::int64_t> epoch_indices(Loader& loader) {
  std::vector<std::int64_t> seen;
  while (auto b = loader.next())
    for (std::int64_t r = 0; r < b->input_ids.size(0); ++r) seen.push_back(b->labels[r][1].item<std::int64_t>() - 5);
  return seen;
}

LoaderOptions no_mlm(int batch) {
  LoaderOptions o;
  o.batch_size = batch;
  o.collator.mlm = false;  // labels are the inputs: row r names its sequence
  return o;
}

}  // namespace

TEST(Loader, EachEpochIsAShuffledPermutation) {
  auto set = make_set();
  Loader loader(set, no_mlm(10));
  EXPECT_EQ(loader.batches_per_epoch(), 11u);
  auto e0 = epoch_indices(loader);
  auto e1 = epoch_indices(loader);
  ASSERT_EQ(e0.size(), kSequences);
  EXPECT_EQ(std::set<std::int64_t>(e0.begin(), e0.end()).size(), kSequences);
  EXPECT_EQ(std::set<std::int64_t>(e1.begin(), e1.end()).size(), kSequences);
  EXPECT_NE(e0, e1);
  Loader again(set, no_mlm(10));
  EXPECT_EQ(epoch_indices(again), e0);
  auto sorted = e0;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_NE(sorted, e0);
}

TEST(Loader, SequentialSamplingIsInOrder) {
  auto o = no_mlm(10);
  o.sampling = Sampling::sequential;
  Loader loader(make_set(), o);
  std::vector<std::int64_t> in_order(kSequences);
  std::iota(in_order.begin(), in_order.end(), 0);
  EXPECT_EQ(epoch_indices(loader), in_order);
  EXPECT_EQ(epoch_indices(loader), in_order);
}

// HF's get_length_grouped_indices on the random order: megabatches of min(103 / (4 x 4), 50) x 4 = 24, each
// sorted by length, longest first and stable, then the head of the megabatch holding the longest sequence
// swapped with the first.
TEST(Loader, GroupByLengthSortsMegabatchesOfTheRandomOrder) {
  auto set = make_set();
  auto o = no_mlm(4);
  o.prefetch = 0;
  Loader random(set, o);
  o.sampling = Sampling::group_by_length;
  Loader grouped(set, o);
  const std::uint64_t mega = 24;
  auto longer = [&](std::uint64_t a, std::uint64_t b) { return set->length(a) > set->length(b); };
  std::uint32_t longest = 0;
  for (std::uint64_t i = 0; i < kSequences; ++i) longest = std::max(longest, set->length(i));
  for (std::uint64_t epoch : {0, 1}) {
    std::vector<std::uint64_t> expected;
    for (std::uint64_t k = 0; k < kSequences; ++k) expected.push_back(random.index_at(epoch, k));
    std::uint64_t head_of_longest = 0;
    for (std::uint64_t begin = 0; begin < kSequences; begin += mega) {
      auto first = expected.begin() + begin;
      std::stable_sort(first, expected.begin() + std::min(begin + mega, kSequences), longer);
      if (longer(*first, expected[head_of_longest])) head_of_longest = begin;
    }
    std::swap(expected[0], expected[head_of_longest]);
    std::vector<std::uint64_t> got;
    for (std::uint64_t k = 0; k < kSequences; ++k) got.push_back(grouped.index_at(epoch, k));
    EXPECT_EQ(got, expected) << "epoch " << epoch;
    EXPECT_EQ(set->length(got[0]), longest);
  }
  // The delivered batches follow that order and are padded to their own longest row.
  auto first = grouped.next();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->input_ids.size(1), longest);
  EXPECT_EQ(first->labels[0][1].item<std::int64_t>() - 5, static_cast<std::int64_t>(grouped.index_at(0, 0)));
}

// DistributedLengthGroupedSampler: rank r takes places r, r + W, ... of the one grouped order.
TEST(Loader, GroupByLengthShardsTheSingleProcessOrder) {
  auto set = make_set();
  auto o = no_mlm(4);
  o.sampling = Sampling::group_by_length;
  o.group_size = 8;
  Loader single(set, o);
  for (int rank = 0; rank < 2; ++rank) {
    auto r = o;
    r.world_size = 2, r.rank = rank;
    Loader loader(set, r);
    ASSERT_EQ(loader.samples_per_rank(), 52u);
    for (std::uint64_t k = 0; k < loader.samples_per_rank(); ++k)
      EXPECT_EQ(loader.index_at(1, k), single.index_at(1, (rank + 2 * k) % kSequences)) << rank << " " << k;
  }
}

TEST(Loader, SamplingStrategyNames) {
  EXPECT_EQ(sampling_from_name("random"), Sampling::random);
  EXPECT_EQ(sampling_from_name("sequential"), Sampling::sequential);
  EXPECT_EQ(sampling_from_name("group_by_length"), Sampling::group_by_length);
  EXPECT_THROW(sampling_from_name("batch_rebalance"), bertforge::UsageError);
}

TEST(Loader, DistributedSamplerSharding) {
  auto set = make_set();
  for (bool drop_last : {false, true}) {
    std::multiset<std::int64_t> all;
    for (int rank = 0; rank < 4; ++rank) {
      auto o = no_mlm(7);
      o.world_size = 4;
      o.rank = rank;
      o.drop_last = drop_last;
      Loader loader(set, o);
      EXPECT_EQ(loader.samples_per_rank(), drop_last ? 25u : 26u);
      auto seen = epoch_indices(loader);
      EXPECT_EQ(seen.size(), loader.samples_per_rank());
      all.insert(seen.begin(), seen.end());
    }
    std::set<std::int64_t> distinct(all.begin(), all.end());
    EXPECT_EQ(all.size(), drop_last ? 100u : 104u);  // padded by repeating the start, or cut
    EXPECT_EQ(distinct.size(), drop_last ? 100u : kSequences);
  }
}

// Evaluation shards: nothing repeated or cut, each sequence on exactly one rank, shard sizes differ by one.
TEST(Loader, UnevenShardsCountEachSequenceOnce) {
  auto set = make_set();
  std::multiset<std::int64_t> all;
  for (int rank = 0; rank < 4; ++rank) {
    auto o = no_mlm(7);
    o.world_size = 4, o.rank = rank, o.even_shards = false;
    Loader loader(set, o);
    EXPECT_EQ(loader.samples_per_rank(), rank < 3 ? 26u : 25u);
    auto seen = epoch_indices(loader);
    all.insert(seen.begin(), seen.end());
  }
  EXPECT_EQ(all.size(), kSequences);
  EXPECT_EQ(std::set<std::int64_t>(all.begin(), all.end()).size(), kSequences);
}

// A sequence is masked alike whatever batch it lands in: 2 ranks x batch 4 see the rows of 1 x batch 8.
TEST(Loader, MasksDependOnThePlaceInTheEpochNotOnTheBatch) {
  auto set = make_set();
  for (Sampling sampling : {Sampling::random, Sampling::group_by_length}) {
    LoaderOptions one;
    one.batch_size = 8;
    one.sampling = sampling;
    one.group_size = 8;
    Loader whole(set, one);
    std::vector<std::unique_ptr<Loader>> ranks;
    for (int rank = 0; rank < 2; ++rank) {
      auto o = one;
      o.batch_size = 4, o.world_size = 2, o.rank = rank;
      ranks.push_back(std::make_unique<Loader>(set, o));
    }
    std::int64_t masked = 0;
    for (int step = 0; step < 12; ++step) {
      auto global = whole.next();
      ASSERT_TRUE(global);
      for (int rank = 0; rank < 2; ++rank) {
        auto local = ranks[rank]->next();
        ASSERT_TRUE(local);
        for (std::int64_t r = 0; r < 4; ++r) {
          std::int64_t g = 2 * r + rank, len = local->attention_mask[r].sum().item<std::int64_t>();
          using at::indexing::Slice;
          EXPECT_TRUE(at::equal(local->input_ids[r].index({Slice(0, len)}), global->input_ids[g].index({Slice(0, len)})))
              << "step " << step << " rank " << rank << " row " << r;
          EXPECT_TRUE(at::equal(local->labels[r].index({Slice(0, len)}), global->labels[g].index({Slice(0, len)})));
          masked += local->labels[r].ne(-100).sum().item<std::int64_t>();
        }
      }
    }
    EXPECT_GT(masked, 0);
  }
}

TEST(Loader, ResumeFromASavedPositionIsExact) {
  auto set = make_set();
  for (Sampling sampling : {Sampling::random, Sampling::group_by_length}) {
    LoaderOptions o;
    o.batch_size = 8;
    o.sampling = sampling;
    o.collator.pad_to_multiple_of = 8;
    Loader reference(set, o);
    std::vector<Batch> batches;
    LoaderPosition saved;
    for (int step = 0; step < 30; ++step) {
      if (step == 17) saved = reference.position();
      auto b = reference.next();
      if (!b) b = reference.next();  // epoch boundary
      batches.push_back(*b);
    }
    EXPECT_EQ(saved.epoch, 1u);
    auto o2 = o;
    o2.prefetch = 0;  // with or without the prefetch thread, the same batches
    Loader resumed(set, o2);
    resumed.seek(saved);
    for (int step = 17; step < 30; ++step) {
      auto b = resumed.next();
      if (!b) b = resumed.next();
      ASSERT_TRUE(at::equal(b->input_ids, batches[step].input_ids)) << "step " << step;
      ASSERT_TRUE(at::equal(b->labels, batches[step].labels));
      ASSERT_TRUE(at::equal(b->sentence_label, batches[step].sentence_label));
      EXPECT_EQ(b->input_ids.size(1) % 8, 0);
    }
  }
}

// CUDA runs: batches come page-locked (so their copy to the GPU does not block the host) and equal unpinned ones.
TEST(Loader, PinnedBatchesForCudaRunsHoldTheSameValues) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: page-locked memory needs one";
  auto set = make_set();
  LoaderOptions o;
  o.batch_size = 8;
  Loader plain(set, o);
  o.pin_memory = true;
  Loader pinned(set, o);
  auto a = plain.next(), b = pinned.next();
  ASSERT_TRUE(a && b);
  for (auto [x, y] : {std::pair{a->input_ids, b->input_ids}, {a->labels, b->labels}, {a->attention_mask, b->attention_mask}}) {
    EXPECT_TRUE(y.is_pinned());
    EXPECT_TRUE(at::equal(x, y));
  }
}
