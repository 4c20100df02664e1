// The dry run's estimates: Korthikanti et al.'s per-layer activation count, the optimizer's state, checkpoints.
#include "bertforge/train/plan.h"

#include <gtest/gtest.h>

using namespace bertforge;

TEST(Plan, ActivationsFollowKorthikantiPerLayerCount) {
  model::BertConfig c;  // BERT-base: h 768, i 3072 = 4h, 12 heads, 12 layers
  const double s = 128, b = 8, h = 768, a = 12;
  train::BatchShape bf16{8, 128, 0.0, true};  // 2-byte elements: the paper's 16-bit case, no MLM head
  train::MemoryPlan m = train::estimate_memory(c, 110'000'000, "adamw_torch", bf16);
  const double layer = s * b * h * 34 + 5 * a * s * s * b;  // the paper's s·b·h·(34 + 5·a·s/h)
  EXPECT_DOUBLE_EQ(m.activations, 12 * layer + 3 * s * b * h);  // + the embeddings' output and dropout mask
  EXPECT_DOUBLE_EQ(m.weights, 4 * 110e6);
  EXPECT_DOUBLE_EQ(m.optimizer_state, 8 * 110e6);  // two fp32 moments
  train::BatchShape fp32{8, 128, 0.0, false};
  EXPECT_GT(train::estimate_memory(c, 110'000'000, "adamw_torch", fp32).activations, m.activations);
  EXPECT_EQ(train::estimate_memory(c, 110'000'000, "sgd", fp32).optimizer_state, 0);
}

TEST(Plan, CheckpointBytesAndUnits) {
  EXPECT_DOUBLE_EQ(train::checkpoint_bytes(1000, "adamw_torch"), 12000);  // weights + two moments
  EXPECT_DOUBLE_EQ(train::checkpoint_bytes(1000, "sgd"), 4000);
  EXPECT_EQ(train::human_bytes(512), "512 B");
  EXPECT_EQ(train::human_bytes(1536), "1.5 KiB");
  EXPECT_EQ(train::human_bytes(3.0 * 1024 * 1024 * 1024), "3.0 GiB");
}
