#include "bertforge/dist/grad_buckets.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <limits>
#include <unordered_set>

namespace bertforge::dist {

namespace {
constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

class ReadyHook final : public torch::autograd::PostAccumulateGradHook {
 public:
  explicit ReadyHook(std::function<void()> f) : f_(std::move(f)) {}
  void operator()(const torch::autograd::Variable&) override { f_(); }

 private:
  std::function<void()> f_;
};
}  // namespace

std::vector<std::vector<std::size_t>> bucket_layout(const std::vector<at::Tensor>& params, std::size_t bucket_bytes) {
  std::vector<std::vector<std::size_t>> out;
  std::unordered_set<const void*> seen;
  std::size_t bytes = 0;
  for (std::size_t k = params.size(); k-- > 0;) {
    const at::Tensor& p = params[k];
    if (!seen.insert(p.unsafeGetTensorImpl()).second) continue;
    std::size_t b = p.numel() * p.element_size();
    bool fits = !out.empty() && bytes + b <= bucket_bytes;
    if (fits) {
      const at::Tensor& first = params[out.back().front()];
      fits = first.scalar_type() == p.scalar_type() && first.device() == p.device();
    }
    if (!fits) out.emplace_back(), bytes = 0;
    out.back().push_back(k);
    bytes += b;
  }
  return out;
}

at::Tensor flatten(const std::vector<at::Tensor>& tensors, const std::vector<std::size_t>& members) {
  std::vector<at::Tensor> views;
  for (auto k : members) views.push_back(tensors[k].detach().reshape(-1));
  return at::cat(views);
}

void unflatten(const at::Tensor& flat, const std::vector<at::Tensor>& tensors, const std::vector<std::size_t>& members) {
  std::int64_t offset = 0;
  for (auto k : members) {
    at::Tensor t = tensors[k].detach();  // detached: in-place writes into parameters are not recorded
    t.copy_(flat.narrow(0, offset, t.numel()).view_as(t));
    offset += t.numel();
  }
}

GradBuckets::GradBuckets(std::vector<at::Tensor> params, std::size_t bucket_bytes, int world_size, AllReduce allreduce)
    : params_(std::move(params)),
      bucket_of_(params_.size(), kNone),
      offset_of_(params_.size(), 0),
      copied_(params_.size(), false),
      world_size_(world_size),
      allreduce_(std::move(allreduce)) {
  std::vector<at::Tensor> trainable;
  std::vector<std::size_t> index;
  for (std::size_t k = 0; k < params_.size(); ++k)
    if (params_[k].requires_grad()) trainable.push_back(params_[k]), index.push_back(k);
  for (auto& members : bucket_layout(trainable, bucket_bytes)) {
    Bucket b;
    std::int64_t numel = 0;
    for (auto& m : members) {
      m = index[m];
      bucket_of_[m] = buckets_.size();
      offset_of_[m] = static_cast<std::size_t>(numel);
      numel += params_[m].numel();
    }
    b.flat = at::zeros({numel}, params_[members.front()].options().requires_grad(false));
    b.members = std::move(members);
    b.pending = b.members.size();
    buckets_.push_back(std::move(b));
  }
}

GradBuckets::~GradBuckets() {
  if (!hooked_) return;
  for (auto& b : buckets_)
    for (auto k : b.members) torch::autograd::impl::set_post_acc_grad_hooks(params_[k], nullptr);
}

std::vector<std::size_t> GradBuckets::bucket_bytes() const {
  std::vector<std::size_t> out;
  for (const auto& b : buckets_) out.push_back(static_cast<std::size_t>(b.flat.numel()) * b.flat.element_size());
  return out;
}

void GradBuckets::place(const std::function<at::Tensor(std::size_t bucket, const at::Tensor& flat)>& where) {
  for (std::size_t k = 0; k < buckets_.size(); ++k) {
    at::Tensor moved = where(k, buckets_[k].flat);
    moved.copy_(buckets_[k].flat);
    buckets_[k].flat = moved;
  }
}

void GradBuckets::install_hooks() {
  for (auto& b : buckets_)
    for (auto k : b.members)
      torch::autograd::impl::set_post_acc_grad_hooks(params_[k], std::make_unique<ReadyHook>([this, k] { on_gradient(k); }));
  hooked_ = true;
}

void GradBuckets::arm(bool sync) {
  std::lock_guard<std::mutex> lock(mutex_);
  armed_ = sync;
}

// An exception must not cross autograd's engine (it would surface as an unrelated backward error), so a
// failure to start a collective is kept and rethrown by finish().
void GradBuckets::on_gradient(std::size_t param) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!armed_ || copied_[param] || hook_error_) return;
  try {
    copy_in(param);
    launch_ready();
  } catch (...) {
    hook_error_ = std::current_exception();
  }
}

void GradBuckets::copy_in(std::size_t param) {
  Bucket& b = buckets_[bucket_of_[param]];
  const at::Tensor& p = params_[param];
  at::Tensor slot = b.flat.narrow(0, static_cast<std::int64_t>(offset_of_[param]), p.numel());
  const at::Tensor& g = p.grad();
  if (!g.defined()) slot.zero_();
  else if (g.data_ptr() != slot.data_ptr()) slot.copy_(g.reshape(-1));  // else autograd accumulated into the bucket
  copied_[param] = true;
  --b.pending;
}

void GradBuckets::launch_ready() {
  while (next_launch_ < buckets_.size() && buckets_[next_launch_].pending == 0) {
    Bucket& b = buckets_[next_launch_];
    b.work = allreduce_(next_launch_++, b.flat);
  }
}

void GradBuckets::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  auto reset = [this] {
    next_launch_ = 0;
    for (auto& b : buckets_) b.pending = b.members.size(), b.work.reset();
    copied_.assign(copied_.size(), false);
  };
  if (hook_error_) {
    auto e = hook_error_;
    hook_error_ = nullptr;
    reset();
    std::rethrow_exception(e);
  }
  try {
    for (auto& b : buckets_)
      for (auto k : b.members)
        if (!copied_[k]) copy_in(k);
    launch_ready();
    for (auto& b : buckets_) {
      if (b.work) {
        b.work->wait();
        b.flat.div_(world_size_);  // after the sum is complete, never before
      }
      for (auto k : b.members)
        params_[k].mutable_grad() =
            b.flat.narrow(0, static_cast<std::int64_t>(offset_of_[k]), params_[k].numel()).view(params_[k].sizes());
    }
  } catch (...) {
    reset();
    throw;
  }
  reset();
}

}  // namespace bertforge::dist
