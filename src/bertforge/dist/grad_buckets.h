// Gradient buckets for data-parallel training, formed as DDP forms them: parameters in reverse order (the
// order backward produces their gradients), packed into buckets of about `bucket_bytes`, one dtype and
// device per bucket, each parameter once (tied weights are one tensor).
//
// With hooks installed, each parameter's post-accumulate-grad hook copies its gradient into its bucket; a
// bucket whose last gradient arrived starts its all-reduce at once, while backward goes on. Buckets start in
// index order on every rank (a ready bucket waits for the ones before it), as collectives must match across
// ranks. finish() starts what has not started (all of it, without hooks), waits for each bucket, and only
// then divides by the world size (unless the all-reduce averaged already); every gradient is then a view of
// its bucket (DDP's gradient_as_bucket_view), so nothing is copied back. A gradient still that view at the next
// round (zeroed in place rather than set to none, or accumulated into by autograd) is not copied in either;
// one set to none comes back from autograd as a new tensor and is copied in once.
#pragma once
#include <ATen/Tensor.h>
#include <torch/csrc/distributed/c10d/Work.hpp>

#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <vector>

namespace bertforge::dist {

// The parameters, each tensor once, in bucket order: indices into `params`, bucket by bucket.
std::vector<std::vector<std::size_t>> bucket_layout(const std::vector<at::Tensor>& params, std::size_t bucket_bytes);

// One flat tensor holding the listed tensors back to back, and the way back.
at::Tensor flatten(const std::vector<at::Tensor>& tensors, const std::vector<std::size_t>& members);
void unflatten(const at::Tensor& flat, const std::vector<at::Tensor>& tensors, const std::vector<std::size_t>& members);

class GradBuckets {
 public:
  // Starts an all-reduce (sum) of bucket `bucket`, `flat`, in place and returns its work; or returns null
  // when `flat` already holds the average over the ranks.
  using AllReduce = std::function<c10::intrusive_ptr<c10d::Work>(std::size_t bucket, at::Tensor& flat)>;

  GradBuckets(std::vector<at::Tensor> params, std::size_t bucket_bytes, int world_size, AllReduce allreduce);
  ~GradBuckets();  // removes the hooks
  GradBuckets(const GradBuckets&) = delete;
  GradBuckets& operator=(const GradBuckets&) = delete;

  // The buckets' sizes in bytes, in bucket order.
  std::vector<std::size_t> bucket_bytes() const;
  // Moves each bucket into the tensor `where(bucket, flat)` returns (the flat's size and type: memory other
  // ranks can read, shm_reduce.h). Before the first round.
  void place(const std::function<at::Tensor(std::size_t bucket, const at::Tensor& flat)>& where);

  void install_hooks();
  // Hooks start all-reduces only while armed (the backward that ends an accumulation).
  void arm(bool sync);
  // Completes the round: every gradient holds the average over ranks. Rethrows a collective's failure.
  void finish();

 private:
  struct Bucket {
    std::vector<std::size_t> members;
    at::Tensor flat;
    std::size_t pending = 0;  // gradients not yet copied in this round
    c10::intrusive_ptr<c10d::Work> work;
  };
  void on_gradient(std::size_t param);
  void copy_in(std::size_t param);
  void launch_ready();

  std::vector<at::Tensor> params_;
  std::vector<Bucket> buckets_;
  std::vector<std::size_t> bucket_of_, offset_of_;
  std::vector<bool> copied_;
  int world_size_;
  AllReduce allreduce_;
  std::mutex mutex_;  // hooks may run on autograd's device threads
  std::size_t next_launch_ = 0;
  bool armed_ = true, hooked_ = false;
  std::exception_ptr hook_error_;
};

}  // namespace bertforge::dist
