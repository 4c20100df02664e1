#include "bertforge/dist/shm_reduce.h"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <signal.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>

#include "bertforge/util/error.h"

namespace bertforge::dist {

namespace {
constexpr std::size_t kAlign = 64;  // a cache line: no two ranks' slots share one
using Word = std::atomic<std::uint32_t>;
static_assert(Word::is_always_lock_free, "the barrier's word is shared between processes");

std::size_t aligned(std::size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

std::string to_string(const std::vector<std::uint8_t>& v) { return std::string(v.begin(), v.end()); }
std::vector<std::uint8_t> bytes(const std::string& s) { return std::vector<std::uint8_t>(s.begin(), s.end()); }

// Each rank's process id, after the barrier's word: a waiting rank sees a peer that ended at once rather
// than at the timeout (Gloo learns it from the closed connection).
pid_t* pids(void* base) { return reinterpret_cast<pid_t*>(static_cast<char*>(base) + kAlign); }
}  // namespace

struct ShmReduce::Segment {
  void* base = nullptr;
  std::size_t bytes = 0;
  ~Segment() {
    if (base) munmap(base, bytes);
  }
};

ShmReduce::Layout ShmReduce::layout(const std::vector<std::size_t>& bucket_bytes, int size) {
  Layout l;
  l.bytes = kAlign + aligned(sizeof(pid_t) * static_cast<std::size_t>(size));  // the barrier's word, the pids
  for (std::size_t b : bucket_bytes) {
    l.offset.push_back(l.bytes);
    l.stride.push_back(aligned(b));
    l.bytes += l.stride.back() * static_cast<std::size_t>(size);
  }
  return l;
}

std::unique_ptr<ShmReduce> ShmReduce::create(c10d::Store& store, int rank, int size,
                                             const std::vector<std::size_t>& bucket_bytes,
                                             std::chrono::milliseconds timeout, std::string& why_not) {
  const Layout l = layout(bucket_bytes, size);
  // Keys of this segment alone: every rank counts the segments it has set up, in the same order.
  const std::string prefix = "bertforge/shm/" + std::to_string(store.add("bertforge/shm/made/" + std::to_string(rank), 1));
  auto key = [&](const std::string& what) { return prefix + "/" + what; };
  auto segment = std::make_shared<Segment>();
  std::string name, failed;  // failed: why this rank cannot take part, "" if it can
  bool created = false;
  auto fail = [&](const std::string& what) {
    if (failed.empty()) failed = what + " " + name + ": " + std::strerror(errno);
  };
  int fd = -1;
  if (rank == 0) {
    name = "/bertforge-" + std::to_string(getpid()) + "-" + std::to_string(std::random_device{}());
    fd = shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    created = fd >= 0;
    // posix_fallocate reserves the pages now: a full tmpfs would otherwise kill the first rank to touch one.
    if (!created) fail("cannot create");
    else if ((errno = posix_fallocate(fd, 0, static_cast<off_t>(l.bytes))) != 0)
      fail("/dev/shm has no room for " + std::to_string((l.bytes + (1 << 20) - 1) >> 20) + " MB for");
  } else {
    name = to_string(store.get(key("name")));
    if (name.empty()) failed = "rank 0 could not create the segment";
    else if ((fd = shm_open(name.c_str(), O_RDWR, 0)) < 0) fail("cannot open");
  }
  if (fd >= 0 && failed.empty()) {
    segment->base = mmap(nullptr, l.bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (segment->base == MAP_FAILED) segment->base = nullptr, fail("cannot map");
  }
  if (fd >= 0) close(fd);
  if (rank == 0) store.set(key("name"), bytes(failed.empty() ? name : ""));
  segment->bytes = l.bytes;
  if (segment->base) pids(segment->base)[rank] = getpid();
  store.set(key(std::to_string(rank)), bytes(failed));
  for (int r = 0; r < size && why_not.empty(); ++r) {
    std::string reason = to_string(store.get(key(std::to_string(r))));
    if (!reason.empty()) why_not = "rank " + std::to_string(r) + ": " + reason;
  }
  if (created) shm_unlink(name.c_str());  // every rank has it mapped, or gave up
  if (!why_not.empty()) return nullptr;
  return std::unique_ptr<ShmReduce>(new ShmReduce(std::move(segment), l, rank, size, timeout));
}

ShmReduce::ShmReduce(std::shared_ptr<Segment> segment, Layout layout, int rank, int size,
                     std::chrono::milliseconds timeout)
    : segment_(std::move(segment)), layout_(std::move(layout)), rank_(rank), size_(size), timeout_(timeout) {}

ShmReduce::~ShmReduce() = default;

at::Tensor ShmReduce::slot_of(int rank, std::size_t b, const at::Tensor& like) const {
  char* at = static_cast<char*>(segment_->base) + layout_.offset.at(b) + layout_.stride[b] * static_cast<std::size_t>(rank);
  // The deleter holds the mapping: a gradient that is a view of its slot may outlive the reducer.
  return at::from_blob(at, like.sizes(), [segment = segment_](void*) {}, like.options());
}

at::Tensor ShmReduce::slot(std::size_t b, const at::Tensor& like) { return slot_of(rank_, b, like); }

void ShmReduce::barrier() {
  Word* word = static_cast<Word*>(segment_->base);
  const std::uint32_t target = (barriers_ + 1) * static_cast<std::uint32_t>(size_);  // wraps as the word does
  ++barriers_;
  if (word->fetch_add(1, std::memory_order_acq_rel) + 1 == target) {
    syscall(SYS_futex, word, FUTEX_WAKE, INT32_MAX, nullptr, nullptr, 0);
    return;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  for (;;) {
    const std::uint32_t seen = word->load(std::memory_order_acquire);
    if (static_cast<std::int32_t>(seen - target) >= 0) return;
    for (int r = 0; r < size_; ++r)
      if (r != rank_ && kill(pids(segment_->base)[r], 0) != 0 && errno == ESRCH)
        throw Error("rank " + std::to_string(r) + " (process " + std::to_string(pids(segment_->base)[r]) +
                    ") ended during the shared-memory gradient all-reduce");
    if (std::chrono::steady_clock::now() >= deadline)
      throw Error("the shared-memory gradient all-reduce waited " + std::to_string(timeout_.count() / 1000) +
                  " s for the other ranks");
    timespec slice{0, 100'000'000};  // wakes to look at the deadline; the last rank's FUTEX_WAKE comes first
    syscall(SYS_futex, word, FUTEX_WAIT, seen, &slice, nullptr, 0);
  }
}

void ShmReduce::average(std::size_t b, const at::Tensor& like) {
  barrier();  // every rank's slot holds its gradients
  const std::int64_t n = like.numel(), share = (n + size_ - 1) / size_;
  const std::int64_t begin = std::min(n, rank_ * share), length = std::min(share, n - begin);
  if (length > 0) {
    at::Tensor sum = slot_of(0, b, like).narrow(0, begin, length);
    for (int r = 1; r < size_; ++r) sum.add_(slot_of(r, b, like).narrow(0, begin, length));
    sum.div_(size_);  // the sum's division, as GradBuckets makes it after Gloo's: the same bits
    for (int r = 1; r < size_; ++r) slot_of(r, b, like).narrow(0, begin, length).copy_(sum);
  }
  barrier();  // every share averaged into every slot
}

}  // namespace bertforge::dist
