#include "bertforge/data/loader.h"

#include <algorithm>
#include <numeric>

#include "bertforge/util/error.h"
#include "bertforge/util/messages.h"
#include "bertforge/util/threads.h"

namespace bertforge::data {

namespace {

// A keyed bijection on [0, n): a 4-round Feistel network on the smallest even bit width covering n, with
// cycle walking (values >= n are permuted again; fewer than 4 steps on average).
std::uint64_t permute(std::uint64_t x, std::uint64_t n, std::uint64_t key) {
  int half = 1;
  while ((std::uint64_t(1) << (2 * half)) < n) ++half;
  const std::uint64_t mask = (std::uint64_t(1) << half) - 1;
  do {
    std::uint64_t l = x >> half, r = x & mask;
    for (std::uint64_t round = 0; round < 4; ++round) {
      const std::uint64_t f = mix64(key ^ (round << 56) ^ r) & mask;
      std::swap(l, r);
      r ^= f;
    }
    x = (l << half) | r;
  } while (x >= n);
  return x;
}

}  // namespace

Sampling sampling_from_name(const std::string& name) {
  if (name == "random") return Sampling::random;
  if (name == "sequential") return Sampling::sequential;
  if (name == "group_by_length") return Sampling::group_by_length;
  throw UsageError("train_sampling_strategy: '" + name + "' is not one of random, sequential, group_by_length");
}

MlmSource::MlmSource(std::shared_ptr<const ShardSet> shards, CollatorOptions options, std::vector<bool> continuation)
    : shards_(std::move(shards)), options_(options), continuation_(std::move(continuation)) {}

Batch MlmSource::make(const std::vector<std::uint64_t>& indices, const std::vector<std::uint64_t>& row_seeds) const {
  Examples ex;
  for (std::uint64_t i : indices) shards_->append(i, ex);
  MlmCollator collator(shards_->meta().special, shards_->meta().vocab_size, shards_->meta().task, options_, 0,
                       continuation_);
  return collator.collate(ex, row_seeds);
}

Loader::Loader(std::shared_ptr<const ShardSet> shards, LoaderOptions options, std::vector<bool> continuation)
    : Loader(std::make_shared<MlmSource>(std::move(shards), options.collator, std::move(continuation)), options) {}

Loader::Loader(std::shared_ptr<const BatchSource> source, LoaderOptions options)
    : source_(std::move(source)), o_(options) {
  const std::uint64_t n = source_->size(), w = o_.world_size;
  if (o_.batch_size < 1) throw UsageError("batch size: " + std::to_string(o_.batch_size) + " is out of range (must be >= 1)");
  if (w < 1 || o_.rank < 0 || o_.rank >= o_.world_size)
    throw Error("distributed: rank " + std::to_string(o_.rank) + " is outside world size " + std::to_string(w));
  if (n == 0) throw Error("the dataset has no sequences");
  if (o_.drop_last) num_samples_ = n / w;  // DistributedSampler's ceil((n - w) / w)
  else if (o_.even_shards) num_samples_ = (n + w - 1) / w;
  else num_samples_ = (n - std::min<std::uint64_t>(n, o_.rank) + w - 1) / w;
  if (num_samples_ == 0 && o_.drop_last)
    throw Error("the dataset has fewer sequences (" + std::to_string(n) + ") than ranks (" + std::to_string(w) +
                "), and dataloader_drop_last leaves none to a rank");
  start_worker();
}

Loader::~Loader() { stop_worker(); }

std::uint64_t Loader::batches_per_epoch() const {
  return o_.drop_last_batch ? num_samples_ / o_.batch_size : (num_samples_ + o_.batch_size - 1) / o_.batch_size;
}

std::uint64_t Loader::shuffled(std::uint64_t epoch, std::uint64_t p) const {
  return permute(p, source_->size(), mix64(o_.seed) ^ mix64(epoch + 0x51ed270b27ULL));
}

std::uint64_t Loader::index_at(std::uint64_t epoch, std::uint64_t k) const {
  const std::uint64_t p = place(k) % source_->size();  // padding repeats the list's start
  switch (o_.sampling) {
    case Sampling::random: return shuffled(epoch, p);
    case Sampling::sequential: return p;
    case Sampling::group_by_length: return (*grouped_order(epoch))[p];
  }
  return p;
}

std::shared_ptr<const std::vector<std::uint64_t>> Loader::grouped_order(std::uint64_t epoch) const {
  std::lock_guard lock(order_mu_);
  if (order_ && order_epoch_ == epoch) return order_;
  const std::uint64_t n = source_->size(), group = o_.group_size > 0 ? o_.group_size : o_.batch_size;
  const std::uint64_t mega = std::clamp<std::uint64_t>(n / (4 * group), 1, 50) * group;
  auto order = std::make_shared<std::vector<std::uint64_t>>(n);
  for (std::uint64_t p = 0; p < n; ++p) (*order)[p] = shuffled(epoch, p);
  std::vector<std::uint32_t> length(n);
  for (std::uint64_t i = 0; i < n; ++i) length[i] = source_->length(i);
  auto longer = [&](std::uint64_t a, std::uint64_t b) { return length[a] > length[b]; };
  std::uint64_t longest = 0;  // the first megabatch whose head is the longest sequence
  for (std::uint64_t begin = 0; begin < n; begin += mega) {
    auto first = order->begin() + begin, last = order->begin() + std::min(begin + mega, n);
    std::stable_sort(first, last, longer);
    if (longer(*first, (*order)[longest])) longest = begin;
  }
  std::swap((*order)[0], (*order)[longest]);
  order_epoch_ = epoch;
  order_ = std::move(order);
  return order_;
}

std::uint64_t Loader::mask_seed(std::uint64_t epoch, std::uint64_t k) const {
  return mix64(o_.seed) ^ mix64((epoch << 40) ^ place(k));
}

Batch Loader::make(LoaderPosition p) const {
  std::vector<std::uint64_t> indices, seeds;
  const std::uint64_t first = p.batch * o_.batch_size;
  const std::uint64_t last = std::min<std::uint64_t>(first + o_.batch_size, num_samples_);
  for (std::uint64_t k = first; k < last; ++k) {
    indices.push_back(index_at(p.epoch, k));
    seeds.push_back(mask_seed(p.epoch, k));
  }
  Batch b = source_->make(indices, seeds);
  if (o_.pin_memory)
    for (at::Tensor* t : {&b.input_ids, &b.token_type_ids, &b.attention_mask, &b.labels, &b.sentence_label})
      if (t->defined()) *t = t->pin_memory();
  return b;
}

void Loader::start_worker() {
  if (o_.prefetch <= 0) return;
  stop_ = false;
  worker_ = std::thread([this] {
    compute_serially_on_this_thread();  // masking's tensor ops never compete with the step's threads
    LoaderPosition p = position_;
    const std::uint64_t batches = batches_per_epoch();
    while (true) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || static_cast<int>(ready_.size()) < o_.prefetch; });
        if (stop_) return;
      }
      if (p.batch >= batches) p = {p.epoch + 1, 0};
      try {
        Batch b = make(p);
        std::lock_guard lock(mu_);
        ready_.push_back(std::move(b));
      } catch (...) {
        std::lock_guard lock(mu_);
        error_ = std::current_exception();
        cv_.notify_all();
        return;
      }
      ++p.batch;
      cv_.notify_all();
    }
  });
}

void Loader::stop_worker() {
  if (!worker_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
  ready_.clear();
}

std::optional<Batch> Loader::next() {
  if (position_.batch >= batches_per_epoch()) {
    position_ = {position_.epoch + 1, 0};
    return std::nullopt;
  }
  std::optional<Batch> out;
  if (o_.prefetch <= 0) {
    out = make(position_);
  } else {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !ready_.empty() || error_; });
    if (error_) std::rethrow_exception(error_);
    out = std::move(ready_.front());
    ready_.pop_front();
    cv_.notify_all();
  }
  ++position_.batch;
  return out;
}

void Loader::seek(LoaderPosition p) {
  stop_worker();
  position_ = p;
  start_worker();
}

}  // namespace bertforge::data
