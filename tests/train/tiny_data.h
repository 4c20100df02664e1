// A tiny prepared dataset and model for trainer tests: random NSP pairs over a 64-token vocabulary written
// with the data room's ShardWriter, and a one-layer BERT that trains on it in milliseconds per step.
#pragma once
#include <filesystem>
#include <string>

#include "bertforge/data/rng.h"
#include "bertforge/data/shard.h"
#include "bertforge/model/config.h"

namespace bertforge::testing {

inline data::SpecialIds tiny_special() {
  data::SpecialIds s;
  s.pad = 0, s.unk = 1, s.cls = 2, s.sep = 3, s.mask = 4;
  return s;
}

// `sequences` pairs of 3..12 + 3..12 random ids in [5, vocab) with random NSP labels, into `dir`.
inline std::string write_tiny_data(const std::filesystem::path& dir, int sequences, std::uint32_t vocab = 64,
                                   std::uint64_t seed = 1) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  data::ShardMeta meta;
  meta.vocab_size = vocab;
  meta.task = data::SentenceTask::nsp;
  meta.special = tiny_special();
  data::Rng rng(seed);
  data::Examples ex;
  for (int i = 0; i < sequences; ++i) {
    std::vector<std::int32_t> a(3 + rng.below(10)), b(3 + rng.below(10));
    for (auto& t : a) t = static_cast<std::int32_t>(5 + rng.below(vocab - 5));
    for (auto& t : b) t = static_cast<std::int32_t>(5 + rng.below(vocab - 5));
    ex.add(a.data(), a.size(), b.data(), b.size(), true, static_cast<int>(rng.below(2)), meta.special);
  }
  data::ShardWriter writer(dir.string(), meta);
  writer.add(ex);
  data::write_manifest(dir.string(), meta, writer.finish(), nlohmann::json::object());
  return dir.string();
}

inline std::string write_tiny_config(const std::filesystem::path& path, std::int64_t vocab = 64) {
  model::BertConfig c;
  c.vocab_size = vocab;
  c.hidden_size = 16;
  c.num_hidden_layers = 1;
  c.num_attention_heads = 2;
  c.intermediate_size = 32;
  c.max_position_embeddings = 32;
  c.save(path.string());
  return path.string();
}

}  // namespace bertforge::testing
