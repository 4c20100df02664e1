// Optimizers and schedules against PyTorch / transformers (tests/golden/optim_schedules.json, written by
// tools/gen_golden/optim_schedules.py): bitwise for torch's optimizers and HF's schedules on CPU.
#include "bertforge/train/optimizer.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bertforge/model/pretrained.h"
#include "bertforge/model/safetensors.h"
#include "bertforge/train/schedule.h"
#include "bertforge/util/error.h"
#include "common/paths.h"

using namespace bertforge::train;
using nlohmann::json;

namespace {

const json& golden() {
  static const json g = [] {
    std::ifstream in(::bertforge::testing::source_dir() + "/tests/golden/optim_schedules.json");
    return json::parse(in);
  }();
  return g;
}

at::Tensor from_json(const json& values, const json& shape) {
  std::vector<float> v = values.get<std::vector<float>>();
  return at::tensor(v).reshape(shape.get<std::vector<std::int64_t>>());
}

std::vector<NamedTensor> make_params() {
  std::vector<NamedTensor> out;
  for (const auto& [name, p] : golden()["params"].items())
    out.push_back({name, from_json(p["values"], p["shape"]).requires_grad_(true)});
  return out;
}

OptimizerOptions options(const std::string& kind) {
  const json& hp = golden()["hyper"];
  return {kind, hp["beta1"], hp["beta2"], hp["eps"], hp["weight_decay"]};
}

void run_steps(Optimizer& opt, std::vector<NamedTensor>& params, int from, int to) {
  const json& g = golden();
  for (int step = from; step < to; ++step) {
    for (auto& p : params) p.tensor.mutable_grad() = from_json(g["grads"][step][p.name], golden()["params"][p.name]["shape"]);
    opt.step(g["lrs"][step].get<double>());
    opt.zero_grad();
  }
}

}  // namespace

TEST(Optimizer, MatchesTorchBitwise) {
  for (std::string kind : {"adam", "adamw_torch", "sgd"}) {
    auto params = make_params();
    Optimizer opt(params, options(kind));
    run_steps(opt, params, 0, golden()["lrs"].size());
    for (auto& p : params) {
      auto want = golden()["expected"][kind][p.name].get<std::vector<float>>();
      auto got = p.tensor.detach().reshape(-1);
      for (std::size_t i = 0; i < want.size(); ++i)
        ASSERT_EQ(got[i].item<float>(), want[i]) << kind << " " << p.name << "[" << i << "]";
    }
  }
}

TEST(Optimizer, LambMatchesFloat64Reference) {
  auto params = make_params();
  Optimizer opt(params, options("lamb"));
  run_steps(opt, params, 0, golden()["lrs"].size());
  for (auto& p : params) {
    auto want = golden()["expected"]["lamb"][p.name].get<std::vector<double>>();
    auto got = p.tensor.detach().reshape(-1);
    for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i].item<float>(), want[i], 2e-6) << p.name;
  }
}

TEST(Optimizer, SaveLoadResumesBitwise) {
  auto dir = std::filesystem::temp_directory_path() / "bf_optimizer_test";
  std::filesystem::create_directories(dir);
  std::string path = (dir / "optimizer_state.pt").string();
  int total = golden()["lrs"].size();
  auto straight = make_params();
  Optimizer a(straight, options("adamw_torch"));
  run_steps(a, straight, 0, total);

  auto first = make_params();
  Optimizer b(first, options("adamw_torch"));
  run_steps(b, first, 0, 3);
  b.save(path);
  auto resumed = make_params();
  for (std::size_t i = 0; i < resumed.size(); ++i) resumed[i].tensor.detach().copy_(first[i].tensor.detach());
  Optimizer c(resumed, options("adamw_torch"));
  c.load(path);
  run_steps(c, resumed, 3, total);
  for (std::size_t i = 0; i < straight.size(); ++i) EXPECT_TRUE(at::equal(straight[i].tensor, resumed[i].tensor));

  Optimizer other(make_params(), options("sgd"));
  EXPECT_THROW(other.load(path), bertforge::Error);
  std::filesystem::remove_all(dir);
}

TEST(Optimizer, DecayGroupsAsHf) {
  EXPECT_TRUE(Optimizer::decays("bert.encoder.layer.0.attention.self.query.weight"));
  EXPECT_FALSE(Optimizer::decays("bert.encoder.layer.0.attention.self.query.bias"));
  EXPECT_FALSE(Optimizer::decays("bert.embeddings.LayerNorm.weight"));
  EXPECT_TRUE(Optimizer::decays("bert.embeddings.word_embeddings.weight"));
}

TEST(Schedule, MatchesTransformersBitwise) {
  for (const auto& s : golden()["schedules"]) {
    Schedule sched{s["type"], s["base_lr"], s["warmup"], s["total"]};
    const auto& lrs = s["lrs"];
    for (std::size_t step = 0; step < lrs.size(); ++step)
      EXPECT_EQ(sched.lr_at(step), lrs[step].get<double>()) << s["type"] << " warmup " << s["warmup"] << " step " << step;
  }
}

// HF Trainer checkpoint -> bertforge: the imported AdamW state takes the step PyTorch takes
// (tests/golden/hf_optimizer, from tools/gen_golden/hf_optimizer.py).
TEST(Optimizer, ContinuesHfTrainerOptimizerBitwise) {
  std::string dir = ::bertforge::testing::source_dir() + "/tests/golden/hf_optimizer";
  std::ifstream meta_in(dir + "/meta.json");
  json meta = json::parse(meta_in);
  auto model = bertforge::model::from_pretrained(dir).model;
  std::vector<NamedTensor> params;
  for (const auto& p : model->named_parameters()) params.push_back({p.key(), p.value()});
  Optimizer opt(params, {"adamw_torch", 0.9, 0.999, 1e-8, meta["weight_decay"].get<double>()});
  EXPECT_EQ(opt.load_torch(dir + "/optimizer.pt"), 2);
  bertforge::model::SafetensorsFile grads(dir + "/grads.safetensors"), expected(dir + "/expected.safetensors");
  for (auto& p : params) p.tensor.mutable_grad() = grads.tensor(p.name).clone();
  opt.step(meta["lr"].get<double>());
  for (auto& p : params) EXPECT_TRUE(at::equal(p.tensor, expected.tensor(p.name))) << p.name;

  Optimizer sgd(params, options("sgd"));
  EXPECT_THROW(sgd.load_torch(dir + "/optimizer.pt"), bertforge::Error);
}
