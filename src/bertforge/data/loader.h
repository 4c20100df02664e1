// The training loader: indexed sequences (a BatchSource: a prepared folder's MLM batches, or fine-tuning
// examples) -> batches, with torch DistributedSampler semantics, a background prefetch thread (its tensor work
// serial, off the intra-op threads), and a position the trainer checkpoints for an exact resume.
//
// Order: each epoch visits a permutation of [0, N) keyed by (seed, epoch) — a Feistel-network bijection
// evaluated per index, so memory stays constant whatever N (torch's randperm would hold 8 bytes per
// sequence; the order therefore differs from torch's, the sharding does not). Sampling::sequential is
// [0, N). Sampling::group_by_length is HF's LengthGroupedSampler (get_length_grouped_indices): that
// permutation cut into megabatches of min(N / (4 G), 50) x G sequences (at least G; G = group_size), each
// sorted by length, longest first (stable), and the first sequence of the megabatch holding the longest
// swapped with the very first; it holds the epoch's order in memory (8 bytes per sequence), the others do not.
// Sharding as DistributedSampler: without drop_last the list is padded to a multiple of world_size by
// repeating its start, with drop_last it is cut to floor(N / world_size) * world_size; rank r takes
// positions r, r + W, r + 2W, ... Batches of batch_size from those; the last one is partial unless
// drop_last_batch (DataLoader's drop_last). With even_shards false (evaluation) nothing is repeated or cut:
// rank r takes the positions r, r + W, ... below N, so shards may differ by one and each sequence counts once.
// Masking (MLM sources): the sequence at position p of epoch e is masked from a generator seeded by (seed, e, p),
// so its masks are the same whatever the batch size, world size or rank that reads it (2 ranks x 4 mask as
// 1 x 8), and whether reached by iterating or by seek(); prefetching never changes what is delivered.
#pragma once
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "bertforge/data/collator.h"
#include "bertforge/data/loader_position.h"
#include "bertforge/data/shard.h"

namespace bertforge::data {

// HF's train_sampling_strategy values.
enum class Sampling { random, sequential, group_by_length };
// "random", "sequential" or "group_by_length"; UsageError otherwise.
Sampling sampling_from_name(const std::string& name);

struct LoaderOptions {
  int batch_size = 32;
  Sampling sampling = Sampling::random;
  int group_size = 0;  // group_by_length: the G above (HF: batch x gradient accumulation steps); 0 = batch_size
  std::uint64_t seed = 42;
  int world_size = 1, rank = 0;
  bool drop_last = false;        // DistributedSampler's
  bool even_shards = true;       // false: no padding, shards may differ by one (evaluation)
  bool drop_last_batch = false;  // DataLoader's
  int prefetch = 4;              // batches made ahead by the background thread; 0 = none, in the caller
  bool pin_memory = false;       // page-locked batches (CUDA runs): their copy to the GPU need not block
  CollatorOptions collator;      // the MLM source's
};

// What a Loader batches: sequences 0 .. size() - 1 and how a batch of them is made. make() is called from the
// prefetch thread and must not touch shared state.
class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual std::uint64_t size() const = 0;
  virtual std::uint32_t length(std::uint64_t i) const = 0;  // tokens of sequence i (group_by_length)
  // Sequences `indices`, in that order; row_seeds[r]: the seed of row r's random choices (masks).
  virtual Batch make(const std::vector<std::uint64_t>& indices, const std::vector<std::uint64_t>& row_seeds) const = 0;
};

// A prepared folder's sequences as MLM batches (MlmCollator).
class MlmSource : public BatchSource {
 public:
  MlmSource(std::shared_ptr<const ShardSet> shards, CollatorOptions options, std::vector<bool> continuation = {});
  std::uint64_t size() const override { return shards_->size(); }
  std::uint32_t length(std::uint64_t i) const override { return shards_->length(i); }
  Batch make(const std::vector<std::uint64_t>& indices, const std::vector<std::uint64_t>& row_seeds) const override;

 private:
  std::shared_ptr<const ShardSet> shards_;
  CollatorOptions options_;
  std::vector<bool> continuation_;
};

class Loader {
 public:
  Loader(std::shared_ptr<const BatchSource> source, LoaderOptions options);
  // An MlmSource of the folder with options.collator.
  Loader(std::shared_ptr<const ShardSet> shards, LoaderOptions options, std::vector<bool> continuation = {});
  ~Loader();

  // The next batch of the current epoch, or nullopt at its end (the position then moves to the next epoch).
  std::optional<Batch> next();
  LoaderPosition position() const { return position_; }
  void seek(LoaderPosition p);

  std::uint64_t samples_per_rank() const { return num_samples_; }
  std::uint64_t batches_per_epoch() const;
  // The dataset index at sample k of this rank in `epoch` (exposed for tests and tools).
  std::uint64_t index_at(std::uint64_t epoch, std::uint64_t k) const;

 private:
  Batch make(LoaderPosition p) const;
  // Sample k of this rank stands at this place of the epoch's padded list: rank, rank + W, rank + 2W, ...
  std::uint64_t place(std::uint64_t k) const { return o_.rank + k * o_.world_size; }
  std::uint64_t mask_seed(std::uint64_t epoch, std::uint64_t k) const;  // of sample k of this rank
  std::uint64_t shuffled(std::uint64_t epoch, std::uint64_t p) const;   // the random permutation's p-th index
  // group_by_length: the epoch's whole order, computed once per epoch (the worker and the caller share it).
  std::shared_ptr<const std::vector<std::uint64_t>> grouped_order(std::uint64_t epoch) const;
  void start_worker();
  void stop_worker();

  std::shared_ptr<const BatchSource> source_;
  LoaderOptions o_;
  std::uint64_t num_samples_ = 0;
  LoaderPosition position_;

  std::thread worker_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> ready_;   // batches position_, position_ + 1, ... of the current epoch
  bool stop_ = false;
  std::exception_ptr error_;

  mutable std::mutex order_mu_;
  mutable std::uint64_t order_epoch_ = 0;
  mutable std::shared_ptr<const std::vector<std::uint64_t>> order_;
};

}  // namespace bertforge::data
