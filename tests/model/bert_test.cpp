#include "bertforge/model/bert.h"

#include <ATen/ops/allclose.h>
#include <ATen/ops/randint.h>
#include <ATen/ops/ones.h>
#include <gtest/gtest.h>
#include <torch/utils.h>

#include <ATen/autocast_mode.h>

#include "bertforge/model/autocast.h"
#include "bertforge/util/error.h"
#include "common/tolerance.h"

using namespace bertforge::model;
using bertforge::testing::grad_close;
using bertforge::testing::grad_floor;
using bertforge::testing::loss_close;
using bertforge::testing::reordered;
using bertforge::testing::tolerance;
using bertforge::testing::values_close;

namespace {

BertConfig small_config() {
  BertConfig c = BertConfig::preset("tiny");
  c.vocab_size = 300;
  c.hidden_size = 64;
  c.num_attention_heads = 4;
  c.intermediate_size = 96;
  c.max_position_embeddings = 32;
  return c;
}

struct Batch {
  at::Tensor ids, types, mask, labels, nsp;
};

Batch make_batch(std::int64_t vocab) {
  Batch b;
  b.ids = at::randint(1, vocab, {4, 16}, at::kLong);
  b.types = (at::arange(16, at::kLong) >= 8).to(at::kLong).expand({4, 16}).contiguous();
  b.mask = at::ones({4, 16}, at::kLong);
  b.mask.index_put_({1, at::indexing::Slice(10)}, 0);
  b.mask.index_put_({3, at::indexing::Slice(5)}, 0);
  b.labels = at::where(at::rand({4, 16}) < 0.25, b.ids, at::full({}, -100, at::kLong)) * b.mask - 100 * (1 - b.mask);
  b.labels.index_put_({at::indexing::Slice(), 0}, 7);  // at least one label per row
  b.nsp = at::randint(0, 2, {4}, at::kLong);
  return b;
}

}  // namespace

TEST(BertForPreTraining, ParametersCarryHfNamesAndTheDecoderOnce) {
  BertForPreTraining m(small_config());
  auto params = m->named_parameters();
  EXPECT_EQ(params.size(), 5u + 16u * 2 + 2 + 1 + 4 + 2);
  for (const char* key : {"bert.embeddings.word_embeddings.weight", "bert.embeddings.LayerNorm.weight",
                          "bert.encoder.layer.1.attention.self.query.weight",
                          "bert.encoder.layer.0.attention.output.LayerNorm.bias",
                          "bert.encoder.layer.0.intermediate.dense.weight", "bert.encoder.layer.1.output.dense.bias",
                          "bert.pooler.dense.weight", "cls.predictions.bias",
                          "cls.predictions.transform.LayerNorm.weight", "cls.seq_relationship.weight"})
    EXPECT_TRUE(params.contains(key)) << key;
  for (const auto& p : params) EXPECT_EQ(p.key().find("decoder"), std::string::npos) << p.key();
}

TEST(BertForPreTraining, HfInitialisation) {
  torch::manual_seed(0);
  BertConfig c = small_config();
  c.pad_token_id = 5;
  BertForPreTraining m(c);
  auto word = m->bert->embeddings->word_embeddings->weight;
  EXPECT_EQ(word[5].abs().max().item<float>(), 0.0f);
  EXPECT_NEAR(word.std().item<double>(), c.initializer_range, 0.002);
  auto query = m->bert->encoder->layer->at<BertLayerImpl>(0).attention->self->query;
  EXPECT_NEAR(query->weight.std().item<double>(), c.initializer_range, 0.003);
  EXPECT_EQ(query->bias.abs().max().item<float>(), 0.0f);
  EXPECT_EQ(m->cls->predictions->bias.abs().max().item<float>(), 0.0f);
  EXPECT_TRUE(at::equal(m->bert->embeddings->LayerNorm->weight, at::ones({c.hidden_size})));
}

TEST(BertForPreTraining, SparseHeadMatchesDenseLossAndGradients) {
  torch::manual_seed(1);
  BertForPreTraining m(small_config());
  m->eval();
  Batch b = make_batch(300);
  auto grads = [&](bool sparse) {
    m->sparse_mlm = sparse;
    m->zero_grad();
    auto out = m(b.ids, b.types, b.mask, b.labels, b.nsp);
    out.loss.backward();
    std::vector<at::Tensor> g{out.loss.detach().clone(), out.mlm_loss.detach().clone()};
    for (const auto& p : m->parameters()) g.push_back(p.grad().clone());
    return std::make_pair(g, out.prediction_logits.detach());
  };
  auto [dense, dense_logits] = grads(false);
  auto [sparse, sparse_logits] = grads(true);
  auto labelled = b.labels.ne(-100);
  EXPECT_EQ(sparse_logits.size(0), labelled.sum().item<std::int64_t>());
  const auto t = reordered();
  EXPECT_TRUE(values_close(sparse_logits, dense_logits.index({labelled}), t));
  ASSERT_EQ(dense.size(), sparse.size());
  const double floor = grad_floor({dense.begin() + 2, dense.end()});
  EXPECT_TRUE(loss_close(sparse[0], dense[0], t) && loss_close(sparse[1], dense[1], t));
  for (std::size_t i = 2; i < dense.size(); ++i) EXPECT_TRUE(grad_close(sparse[i], dense[i], t, floor)) << "tensor " << i;
}

// The tied word matrix's gradient (model/tied_weight.h) is dense whichever loss is differentiated.
TEST(BertForPreTraining, WordGradientIsDenseWhateverJoinsIt) {
  torch::manual_seed(8);
  BertForPreTraining m(small_config());
  m->eval();
  m->sparse_mlm = true;
  Batch b = make_batch(300);
  const at::Tensor& word = m->bert->embeddings->word_embeddings->weight;
  auto grad_of = [&](bool mlm) {
    auto out = m(b.ids, b.types, b.mask, b.labels, b.nsp);
    (mlm ? out.loss : out.nsp_loss).backward();
    return word.grad().clone();
  };
  for (bool mlm : {true, false}) {  // the tied decoder's dense gradient joins the lookup's, or nothing does
    m->zero_grad();
    const at::Tensor once = grad_of(mlm);
    EXPECT_FALSE(once.is_sparse()) << mlm;
    EXPECT_GT(once.abs().max().item<float>(), 0.0f) << mlm;
    const at::Tensor twice = grad_of(mlm);  // accumulation into the dense .grad
    EXPECT_TRUE(at::allclose(twice, once * 2, 1e-5, 1e-7)) << mlm;
  }
}

TEST(BertForPreTraining, LossTermsFollowTheLabelsGiven) {
  torch::manual_seed(2);
  BertForPreTraining m(small_config());
  m->eval();
  Batch b = make_batch(300);
  auto both = m(b.ids, b.types, b.mask, b.labels, b.nsp);
  EXPECT_NEAR(both.loss.item<double>(), both.mlm_loss.item<double>() + both.nsp_loss.item<double>(), 1e-6);
  auto none = m(b.ids, b.types, b.mask);
  EXPECT_FALSE(none.loss.defined());
  EXPECT_EQ(none.prediction_logits.sizes(), (std::vector<std::int64_t>{4, 16, 300}));
  EXPECT_EQ(none.seq_relationship_logits.sizes(), (std::vector<std::int64_t>{4, 2}));
  EXPECT_TRUE(at::allclose(none.prediction_logits, both.prediction_logits));
}

TEST(BertForPreTraining, TrainModeAppliesDropout) {
  torch::manual_seed(3);
  BertForPreTraining m(small_config());
  Batch b = make_batch(300);
  m->train();
  auto a = m(b.ids, b.types, b.mask).prediction_logits;
  auto c = m(b.ids, b.types, b.mask).prediction_logits;
  EXPECT_FALSE(at::allclose(a, c));
  m->eval();
  EXPECT_TRUE(at::equal(m(b.ids, b.types, b.mask).prediction_logits, m(b.ids, b.types, b.mask).prediction_logits));
}

TEST(BertForPreTraining, Bf16AutocastStaysCloseToFp32) {
  torch::manual_seed(4);
  BertForPreTraining m(small_config());
  m->eval();
  Batch b = make_batch(300);
  auto fp32 = m(b.ids, b.types, b.mask, b.labels, b.nsp);
  BertForPreTrainingOutput bf16;
  {
    Autocast mixed(c10::kCPU, at::kBFloat16);
    bf16 = m(b.ids, b.types, b.mask, b.labels, b.nsp);
  }
  EXPECT_EQ(bf16.prediction_logits.scalar_type(), at::kBFloat16);
  EXPECT_EQ(bf16.loss.scalar_type(), at::kFloat);
  EXPECT_TRUE(loss_close(bf16.loss, fp32.loss, tolerance(c10::kCPU, at::kBFloat16)))
      << bf16.loss.item<double>() << " vs " << fp32.loss.item<double>();
  bf16.loss.backward();
  for (const auto& p : m->parameters()) EXPECT_EQ(p.grad().scalar_type(), at::kFloat);
  EXPECT_FALSE(at::autocast::is_autocast_enabled(c10::kCPU));
}

TEST(BertForPreTraining, SequenceLongerThanPositionsIsAnError) {
  BertForPreTraining m(small_config());
  EXPECT_THROW(m(at::ones({1, 33}, at::kLong)), bertforge::Error);
}

namespace {

// A batch of rows `lengths` long, padded to `seq` (or, for a negative length, padded at the front).
Batch batch_of_lengths(const std::vector<std::int64_t>& lengths, std::int64_t seq, std::int64_t vocab) {
  const std::int64_t rows = lengths.size();
  Batch b;
  b.ids = at::randint(1, vocab, {rows, seq}, at::kLong);
  b.types = (at::arange(seq, at::kLong) >= seq / 2).to(at::kLong).expand({rows, seq}).contiguous();
  b.mask = at::zeros({rows, seq}, at::kLong);
  for (std::int64_t i = 0; i < rows; ++i) {
    using at::indexing::Slice;
    if (lengths[i] >= 0) b.mask.index_put_({i, Slice(0, lengths[i])}, 1);
    else b.mask.index_put_({i, Slice(seq + lengths[i])}, 1);
  }
  b.ids = b.ids * b.mask;  // pad id 0
  b.labels = at::where(at::rand({rows, seq}) < 0.3, b.ids, at::full({}, -100, at::kLong));
  b.labels = at::where(b.mask.to(at::kBool), b.labels, at::full({}, -100, at::kLong));
  b.nsp = at::randint(0, 2, {rows}, at::kLong);
  return b;
}

}  // namespace

TEST(TokenLayout, UnpadsOnlyBatchesWithPaddingThatStartWithTokens) {
  auto layout = [](const std::vector<std::int64_t>& lengths, bool unpad) {
    Batch b = batch_of_lengths(lengths, 8, 50);
    return TokenLayout(b.ids, b.mask, unpad);
  };
  EXPECT_TRUE(layout({8, 3, 5}, true).unpadded());
  EXPECT_FALSE(layout({8, 3, 5}, false).unpadded());
  EXPECT_FALSE(layout({8, 8, 8}, true).unpadded());
  EXPECT_FALSE(layout({8, -3, 5}, true).unpadded());  // a row's first position is padding: the pooler reads it
  Batch b = batch_of_lengths({8, 3, 5}, 8, 50);
  TokenLayout unpadded(b.ids, b.mask, true);
  auto tokens = unpadded.unpad(b.ids);
  EXPECT_EQ(tokens.sizes(), (std::vector<std::int64_t>{16}));
  EXPECT_TRUE(at::equal(unpadded.pad(tokens.unsqueeze(1)).squeeze(2), b.ids));
  EXPECT_TRUE(at::equal(unpadded.positions().narrow(0, 8, 3), at::arange(3, at::kLong)));
  EXPECT_TRUE(at::equal(tokens.index_select(0, unpadded.first_rows()), b.ids.select(1, 0)));
  // Rows 0 and 9 of the tokens are the first and the second position of batch rows 0 and 1.
  auto some = at::tensor({0, 9}, at::kLong);
  auto scattered = unpadded.pad_rows(tokens.index_select(0, some).unsqueeze(1), some).squeeze(2);
  EXPECT_EQ(scattered.ne(0).sum().item<std::int64_t>(), 2);
  EXPECT_EQ(scattered[0][0].item<std::int64_t>(), b.ids[0][0].item<std::int64_t>());
  EXPECT_EQ(scattered[1][1].item<std::int64_t>(), b.ids[1][1].item<std::int64_t>());
  // Gathered into the padded shape by slots(): each position's own token, its row's first at padding.
  const at::Tensor gathered = tokens.index_select(0, unpadded.slots()).view({3, 8});
  const at::Tensor first = b.ids.select(1, 0).unsqueeze(1).expand({3, 8});
  EXPECT_TRUE(at::equal(gathered, at::where(b.mask.to(at::kBool), b.ids, first)));
  EXPECT_TRUE(at::equal(unpadded.flat_positions().index_select(0, at::tensor({0, 8, 11}, at::kLong)),
                        at::tensor({0, 8, 16}, at::kLong)));
  TokenLayout padded(b.ids, b.mask, false);
  EXPECT_TRUE(at::equal(b.ids.reshape(-1).index_select(0, padded.first_rows()), b.ids.select(1, 0)));
}

// The fast paths change no value the caller reads. Skipping padding: the outputs at real positions, the losses
// and every gradient equal the padded computation's within the tolerance table's entry for the dtype (fp32,
// and bf16 autocast with bf16 activations), for mixed lengths (a row without padding among them) and for
// batches without padding or starting with padding (both keep the padded layout). Pruning the last layer to
// the rows the heads read: the same outputs at those rows, losses and gradients, padded and unpadded.
// Dropout 0, so attention takes SDPA's flash kernel.
class FastPathTest : public ::testing::TestWithParam<at::ScalarType> {
 protected:
  struct Run {
    BertForPreTrainingOutput out;
    std::vector<at::Tensor> grads;
  };

  void SetUp() override {
    torch::manual_seed(5);
    BertConfig c = small_config();
    c.hidden_dropout_prob = 0;
    c.attention_probs_dropout_prob = 0;
    m = BertForPreTraining(c);
    m->train();
    m->sparse_mlm = true;
    for (const auto& p : m->named_parameters()) names.push_back(p.key());
  }

  Run run(const Batch& b, bool unpad, bool prune) {
    m->unpad = unpad;
    m->prune_last_layer = prune;
    m->zero_grad();
    Run r;
    {
      Autocast mixed(c10::kCPU, GetParam());
      r.out = m(b.ids, b.types, b.mask, b.labels, b.nsp);
    }
    r.out.loss.backward();
    for (const auto& p : m->parameters()) r.grads.push_back(p.grad().clone());
    return r;
  }

  // read: bool [batch, seq, 1], where last_hidden_state is compared.
  void expect_same(const Run& fast, const Run& plain, const at::Tensor& read) {
    const auto t = tolerance(c10::kCPU, GetParam());
    EXPECT_TRUE(values_close(fast.out.last_hidden_state * read, plain.out.last_hidden_state * read, t));
    EXPECT_TRUE(values_close(fast.out.prediction_logits, plain.out.prediction_logits, t));
    EXPECT_TRUE(values_close(fast.out.seq_relationship_logits, plain.out.seq_relationship_logits, t));
    EXPECT_TRUE(loss_close(fast.out.loss, plain.out.loss, t));
    EXPECT_TRUE(loss_close(fast.out.mlm_loss, plain.out.mlm_loss, t));
    EXPECT_TRUE(loss_close(fast.out.nsp_loss, plain.out.nsp_loss, t));
    ASSERT_EQ(fast.grads.size(), plain.grads.size());
    const double floor = grad_floor(plain.grads);
    for (std::size_t i = 0; i < plain.grads.size(); ++i)
      EXPECT_TRUE(grad_close(fast.grads[i], plain.grads[i], t, floor)) << names[i];
  }

  BertForPreTraining m{nullptr};
  std::vector<std::string> names;
};

namespace {

const std::vector<std::vector<std::int64_t>> kLengths{{16, 9, 3, 12, 1, 15}, {16, 16, 16}, {16, -9, 3}, {11, 11, 2}};

std::string trace(const std::vector<std::int64_t>& lengths) {
  return "lengths " + std::to_string(lengths[0]) + ", " + std::to_string(lengths[1]) + ", ...";
}

}  // namespace

TEST_P(FastPathTest, UnpaddedForwardMatchesPadded) {
  for (const auto& lengths : kLengths) {
    SCOPED_TRACE(trace(lengths));
    Batch b = batch_of_lengths(lengths, 16, 300);
    expect_same(run(b, true, false), run(b, false, false), b.mask.to(at::kBool).unsqueeze(2));
  }
}

TEST_P(FastPathTest, PrunedLastLayerMatchesTheWholeLayer) {
  for (const auto& lengths : kLengths) {
    SCOPED_TRACE(trace(lengths));
    Batch b = batch_of_lengths(lengths, 16, 300);
    auto read = b.labels.ne(-100);
    read.select(1, 0).fill_(true);
    for (bool unpad : {false, true}) {
      SCOPED_TRACE(unpad ? "unpadded" : "padded");
      Run pruned = run(b, unpad, true), whole = run(b, unpad, false);
      expect_same(pruned, whole, read.unsqueeze(2));
      // Nothing is computed where no head reads.
      EXPECT_EQ(pruned.out.last_hidden_state.masked_select(read.logical_not().unsqueeze(2)).abs().max().item<float>(), 0);
    }
  }
}

// Attention dropout draws over the padded [batch, heads, seq, seq] in both layouts, so with the same seed the
// masks are the same: the unpadded gather (padding slots holding copies of real tokens) against zeros there.
TEST_P(FastPathTest, UnpaddedMatchesPaddedUnderAttentionDropout) {
  BertConfig c = small_config();
  c.hidden_dropout_prob = 0;
  c.attention_probs_dropout_prob = 0.2;
  torch::manual_seed(6);
  m = BertForPreTraining(c);
  m->train();
  m->sparse_mlm = true;
  for (const auto& lengths : {kLengths[0], kLengths[3]}) {
    SCOPED_TRACE(trace(lengths));
    Batch b = batch_of_lengths(lengths, 16, 300);
    auto seeded = [&](bool unpad) {
      torch::manual_seed(11);
      return run(b, unpad, false);
    };
    expect_same(seeded(true), seeded(false), b.mask.to(at::kBool).unsqueeze(2));
    torch::manual_seed(12);  // other masks, another loss: dropout is on
    EXPECT_NE(run(b, true, false).out.loss.item<float>(), seeded(true).out.loss.item<float>());
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, FastPathTest, ::testing::Values(at::kFloat, at::kBFloat16),
                         [](const auto& info) { return std::string(c10::toString(info.param)); });
