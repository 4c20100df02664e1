#include "bertforge/model/tied_weight.h"

#include <ATen/ops/allclose.h>
#include <ATen/ops/embedding.h>
#include <ATen/ops/linear.h>
#include <ATen/ops/randint.h>
#include <ATen/ops/randn.h>
#include <gtest/gtest.h>
#include <torch/utils.h>

using namespace bertforge::model;

namespace {

constexpr std::int64_t kVocab = 50, kWidth = 8, kPad = 0;

struct Uses {
  bool lookup, decoder;
};

// A loss reading the matrix through the lookup and/or as a decoder; the tie's gradient against the same loss
// on a plain parameter read twice (dense lookup).
struct Case {
  at::Tensor ids = at::randint(0, kVocab, {12}, at::kLong), probe = at::randn({12, kWidth}),
             hidden = at::randn({5, kWidth}), target = at::randn({5, kVocab});

  at::Tensor loss(const at::Tensor& lookup, const at::Tensor& decoder, bool sparse, Uses u) const {
    at::Tensor l = at::zeros({});
    if (u.lookup) l = l + (at::embedding(lookup, ids, kPad, false, sparse) * probe).sum();
    if (u.decoder) l = l + (at::linear(hidden, decoder) * target).sum();
    return l;
  }
  at::Tensor tied_grad(const at::Tensor& w, Uses u, int backwards = 1) const {
    for (int i = 0; i < backwards; ++i) {
      auto [lookup, decoder] = tie_word_weight(w);
      loss(lookup, decoder, true, u).backward();
    }
    return w.grad();
  }
  at::Tensor plain_grad(const at::Tensor& w, Uses u) const {
    loss(w, w, false, u).backward();
    return w.grad();
  }
};

at::Tensor fresh_weight() { return at::randn({kVocab, kWidth}).requires_grad_(); }

}  // namespace

TEST(TiedWeight, BothUsesGiveTheDenseSum) {
  torch::manual_seed(0);
  Case c;
  c.ids[3] = kPad;  // the padding row gets no lookup gradient
  c.ids[7] = c.ids[8];  // a token met twice sums its rows
  const at::Tensor w = fresh_weight();
  const at::Tensor plain = w.detach().clone().requires_grad_();
  for (Uses u : {Uses{true, true}, Uses{true, false}, Uses{false, true}}) {
    w.mutable_grad() = at::Tensor();
    plain.mutable_grad() = at::Tensor();
    const at::Tensor tied = c.tied_grad(w, u);
    ASSERT_TRUE(tied.defined());
    EXPECT_FALSE(tied.is_sparse()) << u.lookup << u.decoder;
    EXPECT_TRUE(at::allclose(tied, c.plain_grad(plain, u), 1e-5, 1e-6)) << u.lookup << u.decoder;
  }
}

TEST(TiedWeight, PaddingRowGetsOnlyTheDecoders) {
  torch::manual_seed(1);
  Case c;
  c.ids.fill_(kPad);
  const at::Tensor w = fresh_weight();
  EXPECT_EQ(c.tied_grad(w, {true, false}).abs().max().item<float>(), 0.0f);
}

TEST(TiedWeight, GradientsAccumulateAcrossBackwards) {
  torch::manual_seed(2);
  Case c;
  const at::Tensor once = c.tied_grad(fresh_weight(), {true, true}).clone();
  torch::manual_seed(2);
  Case same;
  const at::Tensor twice = same.tied_grad(fresh_weight(), {true, true}, 2);
  EXPECT_TRUE(at::allclose(twice, once * 2, 1e-5, 1e-6));
}

TEST(TiedWeight, ResultsAreTheWeight) {
  const at::Tensor w = fresh_weight();
  auto [lookup, decoder] = tie_word_weight(w);
  EXPECT_EQ(lookup.data_ptr(), w.data_ptr());
  EXPECT_EQ(decoder.data_ptr(), w.data_ptr());
  EXPECT_TRUE(at::equal(lookup, w) && at::equal(decoder, w));
}
