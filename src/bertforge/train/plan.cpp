#include "bertforge/train/plan.h"

#include <cstdio>

namespace bertforge::train {

namespace {
double moments(const std::string& optim) { return optim == "sgd" ? 0 : 2; }
}  // namespace

MemoryPlan estimate_memory(const model::BertConfig& c, std::int64_t parameters, const std::string& optim,
                           const BatchShape& batch) {
  const double p = static_cast<double>(parameters), e = batch.bf16 ? 2 : 4;
  const double s = static_cast<double>(batch.length), b = static_cast<double>(batch.sequences);
  const double h = static_cast<double>(c.hidden_size), i = static_cast<double>(c.intermediate_size);
  const double a = static_cast<double>(c.num_attention_heads), v = static_cast<double>(c.vocab_size);
  const double layer = s * b * h * (8 * e + 2) + 2 * e * s * b * i + (2 * e + 1) * a * s * s * b;
  const double labelled = batch.mlm_probability * s * b;
  const double head = labelled * (3 * e * h + 2 * 4 * v);
  MemoryPlan m;
  m.weights = 4 * p;
  m.gradients = 4 * p;
  m.optimizer_state = 4 * p * moments(optim);
  m.activations = static_cast<double>(c.num_hidden_layers) * layer + (e + 1) * s * b * h + head;
  return m;
}

double checkpoint_bytes(std::int64_t parameters, const std::string& optim) {
  return 4 * static_cast<double>(parameters) * (1 + moments(optim));
}

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) bytes /= 1024, ++u;
  char out[32];
  std::snprintf(out, sizeof out, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return out;
}

}  // namespace bertforge::train
