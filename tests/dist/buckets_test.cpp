#include <ATen/ATen.h>
#include <ATen/core/ivalue.h>
#include <gtest/gtest.h>

#include "bertforge/dist/fingerprint.h"
#include "bertforge/dist/grad_buckets.h"
#include "bertforge/dist/world.h"

using namespace bertforge::dist;

TEST(Buckets, ReverseOrderCappedOneTensorOnce) {
  at::Tensor a = at::zeros({10}), b = at::zeros({20}), c = at::zeros({5}), d = at::zeros({3}, at::kDouble);
  // 4-byte floats, cap 100 bytes = 25 floats; `a` listed twice (a tied weight) counts once.
  std::vector<at::Tensor> params{a, b, c, a, d};
  auto layout = bucket_layout(params, 100);
  using L = std::vector<std::vector<std::size_t>>;
  // From the end: d alone (double); a (its later entry) and c share 60 bytes; b would make 140, so it starts
  // a bucket of its own; the earlier entry of a is skipped.
  EXPECT_EQ(layout, (L{{4}, {3, 2}, {1}}));
}

TEST(Buckets, FlattenRoundTrip) {
  std::vector<at::Tensor> t{at::randn({2, 3}), at::randn({4})};
  at::Tensor flat = flatten(t, {1, 0});
  EXPECT_TRUE(flat.narrow(0, 0, 4).equal(t[1]));
  std::vector<at::Tensor> u{at::zeros({2, 3}), at::zeros({4})};
  unflatten(flat, u, {1, 0});
  EXPECT_TRUE(u[0].equal(t[0]) && u[1].equal(t[1]));
}

TEST(Fingerprint, EqualBitsEqualPrintsAnyChangeDiffers) {
  at::Tensor a = at::randn({1000});
  at::Tensor f = fingerprints({a, a.clone()});
  EXPECT_TRUE(f[0].equal(f[1]));
  at::Tensor b = a.clone();
  b[500] = std::nextafter(b[500].item<float>(), 1e9f);  // one ulp
  EXPECT_FALSE(fingerprints({b})[0].equal(f[0]));
  at::Tensor swapped = a.clone();
  swapped[1] = a[2], swapped[2] = a[1];
  EXPECT_FALSE(fingerprints({swapped})[0].equal(f[0]));
}

TEST(SingleProcess, CollectivesAreIdentities) {
  auto w = single_process();
  EXPECT_EQ(w->size(), 1);
  EXPECT_EQ(w->sum({1, 2}), (std::vector<double>{1, 2}));
  at::Tensor p = at::ones({3}).set_requires_grad(true);
  (p * 2).sum().backward();
  w->attach_parameters({p});
  w->sync_gradients({p});
  EXPECT_TRUE(p.grad().equal(at::full({3}, 2.0)));
}

namespace {
// An all-reduce over one process that records when it was started: the sum is the tensor itself.
struct Recorder {
  std::vector<std::int64_t> sizes;
  int during_backward = 0;
  bool backward_done = false;
  GradBuckets::AllReduce fn() {
    return [this](std::size_t, at::Tensor& flat) {
      sizes.push_back(flat.numel());
      during_backward += !backward_done;
      auto f = c10::make_intrusive<c10::ivalue::Future>(c10::ListType::create(c10::TensorType::get()));
      f->markCompleted(c10::IValue(std::vector<at::Tensor>{flat}));
      return c10d::Work::create_from_future(f);
    };
  }
};
}  // namespace

TEST(GradBuckets, HooksStartBucketsDuringBackwardInReverseOrder) {
  std::vector<at::Tensor> params{at::randn({4, 8}).set_requires_grad(true), at::randn({8}).set_requires_grad(true),
                                 at::randn({2, 8}).set_requires_grad(true)};
  Recorder rec;
  // 40 floats per bucket: {params[2] 16 + params[1] 8}, {params[0] 32}.
  GradBuckets buckets(params, 160, /*world_size=*/2, rec.fn());
  buckets.install_hooks();
  at::Tensor x = at::randn({3, 4});
  auto loss = [&] { return at::tanh(at::tanh(x.matmul(params[0]) + params[1]).matmul(params[2].t())).sum(); };
  loss().backward();
  rec.backward_done = true;
  EXPECT_EQ(rec.sizes, (std::vector<std::int64_t>{24, 32}));
  EXPECT_EQ(rec.during_backward, 2);
  std::vector<at::Tensor> raw;
  for (auto& p : params) raw.push_back(p.grad().clone());
  buckets.finish();
  for (std::size_t k = 0; k < params.size(); ++k) EXPECT_TRUE(params[k].grad().allclose(raw[k] / 2));

  // An accumulation step: nothing starts during the unarmed backward, everything at finish().
  rec = Recorder{};
  buckets.arm(false);
  loss().backward();
  EXPECT_TRUE(rec.sizes.empty());
  buckets.arm(true);
  rec.backward_done = true;
  buckets.finish();
  EXPECT_EQ(rec.sizes.size(), 2u);
}
