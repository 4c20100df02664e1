// The gradient all-reduce of ranks that share one machine's memory (CPU training, every rank on one node),
// through a shared-memory segment instead of Gloo's TCP loopback: on 2 ranks Gloo moves 25 MB in about
// 30 ms, the memory here sums it in a few.
//
// Each bucket has one slot per rank in the segment, and a rank's bucket IS its slot (GradBuckets::place),
// so nothing is copied in or out: after a barrier every rank sums its 1/n of the bucket over all slots, in
// rank order, divides it by n, writes it into every slot, and after a second barrier each slot holds the
// whole average, the same bits on every rank. A barrier waits on a futex in the segment, at most `timeout`; then it throws
// and the caller's diagnosis names the rank that stopped (health.h). A rank whose process has ended is seen
// within 0.1 s and named at once.
//
// The segment lives in /dev/shm only until every rank has mapped it (rank 0 then unlinks its name), so a run
// that dies leaves nothing behind. Where /dev/shm has no room (a container's 64 MB default), create() says so
// and the caller keeps Gloo.
#pragma once
#include <ATen/Tensor.h>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bertforge::dist {

class ShmReduce {
 public:
  // Collective over the ranks of `store`: all get a reducer, or all get null with `why_not` set (the same
  // decision on every rank). `bucket_bytes`: the buckets' sizes, the same list on every rank.
  static std::unique_ptr<ShmReduce> create(c10d::Store& store, int rank, int size,
                                           const std::vector<std::size_t>& bucket_bytes,
                                           std::chrono::milliseconds timeout, std::string& why_not);
  ~ShmReduce();
  ShmReduce(const ShmReduce&) = delete;
  ShmReduce& operator=(const ShmReduce&) = delete;

  // This rank's slot of bucket `b`, shaped and typed as `like` (that bucket's flat tensor).
  at::Tensor slot(std::size_t b, const at::Tensor& like);
  // Averages bucket `b` over the ranks into every rank's slot. Every rank calls it for the same buckets in
  // the same order.
  void average(std::size_t b, const at::Tensor& like);

 private:
  struct Segment;  // the mapping, unmapped when the reducer and the last slot tensor are gone
  struct Layout {
    std::vector<std::size_t> offset, stride;  // bucket b's slot r starts at offset[b] + r * stride[b]
    std::size_t bytes = 0;                    // the whole segment, the barrier's word first
  };
  static Layout layout(const std::vector<std::size_t>& bucket_bytes, int size);
  ShmReduce(std::shared_ptr<Segment> segment, Layout layout, int rank, int size, std::chrono::milliseconds timeout);
  void barrier();
  at::Tensor slot_of(int rank, std::size_t b, const at::Tensor& like) const;

  std::shared_ptr<Segment> segment_;
  Layout layout_;
  int rank_, size_;
  std::chrono::milliseconds timeout_;
  std::uint32_t barriers_ = 0;  // barriers this rank has passed
};

}  // namespace bertforge::dist
