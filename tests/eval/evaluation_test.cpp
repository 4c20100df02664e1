#include "bertforge/eval/evaluation.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "bertforge/eval/eval_metrics.h"
#include "bertforge/infer/model_dir.h"
#include "common/tolerance.h"
#include "infer/tiny_model.h"

using namespace bertforge;
using bertforge::testing::TinyModel;
namespace fs = std::filesystem;

namespace {

// 21 NSP pairs over the tiny vocabulary (ids 5..35), in a prepared folder.
std::shared_ptr<const data::ShardSet> tiny_data(const fs::path& dir) {
  fs::create_directories(dir);
  data::ShardMeta meta{0, 36, data::SentenceTask::nsp, {2, 3, 0, 4, 1}};
  data::Examples ex;
  for (int i = 0; i < 21; ++i) {
    std::vector<std::int32_t> a, b;
    for (int j = 0; j < 4 + i % 7; ++j) a.push_back(5 + (i * 7 + j * 3) % 31);
    for (int j = 0; j < 3 + i % 5; ++j) b.push_back(5 + (i * 11 + j * 5) % 31);
    ex.add(a.data(), a.size(), b.data(), b.size(), true, i % 2, meta.special);
  }
  data::ShardWriter w(dir.string(), meta);
  w.add(ex);
  data::write_manifest(dir.string(), meta, w.finish(), nlohmann::json::object());
  return std::make_shared<const data::ShardSet>(dir.string());
}

struct EvaluationTest : ::testing::Test {
  TinyModel tiny{"eval"};
  infer::ModelDir m = infer::open_model_dir(tiny.path(), "", c10::kCPU);
  std::shared_ptr<const data::ShardSet> set = tiny_data(tiny.dir / "data");
  data::Loader loader{set, [] {
                        data::LoaderOptions o;
                        o.batch_size = 4;
                        o.sampling = data::Sampling::sequential;
                        o.prefetch = 0;
                        return o;
                      }()};
};

TEST_F(EvaluationTest, SparseHeadGivesTheDenseHeadsMetrics) {
  m.model->train();
  auto r = eval::evaluate(m.model, loader, {});
  EXPECT_TRUE(m.model->is_training());  // mode restored
  EXPECT_FALSE(m.model->sparse_mlm);

  eval::EvalMetrics dense;  // the same batches through the dense head, the way HF's evaluation runs
  m.model->eval();
  at::NoGradGuard no_grad;
  loader.seek({0, 0});
  std::int64_t tokens = 0;
  while (auto b = loader.next()) {
    auto out = m.model->forward(b->input_ids, b->token_type_ids, b->attention_mask, b->labels, b->sentence_label);
    EXPECT_EQ(out.prediction_logits.dim(), 3);
    dense.add(out.loss, out.prediction_logits, b->labels, out.seq_relationship_logits, b->sentence_label);
    tokens += b->attention_mask.sum().item<std::int64_t>();
  }
  auto d = dense.result();
  for (const char* key : {"eval_loss", "eval_mlm_loss", "eval_perplexity", "eval_mlm_accuracy",
                          "eval_mlm_top5_accuracy", "eval_nsp_accuracy"})
    EXPECT_NEAR(r.at(key).get<double>(), d.at(key).get<double>(),
                bertforge::testing::reordered().values * (1 + std::abs(d.at(key).get<double>()))) << key;
  EXPECT_EQ(r["eval_samples"].get<std::int64_t>(), 21);
  EXPECT_EQ(r["eval_tokens"].get<std::int64_t>(), tokens);
  EXPECT_GT(r["eval_tokens_per_second"].get<double>(), 0);
}

TEST_F(EvaluationTest, EveryPassSeesTheSameMasks) {
  auto a = eval::evaluate(m.model, loader, {});
  loader.next();  // wherever the loader stands, a pass starts from its beginning
  auto b = eval::evaluate(m.model, loader, {});
  EXPECT_EQ(a["eval_mlm_loss"], b["eval_mlm_loss"]);
  EXPECT_EQ(a["eval_loss"], b["eval_loss"]);
  auto first = eval::evaluate(m.model, loader, {c10::kCPU, false, /*max_batches=*/1});
  EXPECT_EQ(first["eval_samples"].get<std::int64_t>(), 4);
}

}  // namespace
