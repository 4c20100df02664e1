#include "bertforge/eval/dataset.h"

#include <filesystem>

#include "bertforge/data/hf_dataset.h"
#include "bertforge/data/prepare.h"
#include "bertforge/text/tokenizer.h"
#include "bertforge/util/error.h"

namespace fs = std::filesystem;

namespace bertforge::eval {

std::shared_ptr<const data::ShardSet> open_dataset(const std::string& path, const std::string& tokenizer,
                                                   const std::string& cache, dist::World& world) {
  if (!fs::exists(path)) fail_at(path, 0, "no such data folder");
  if (!fs::exists(fs::path(path) / "state.json")) return std::make_shared<const data::ShardSet>(path);
  if (!data::is_tokenized_hf(path))
    fail_at(path, 0, "an HF dataset without an input_ids column: run `bertforge prepare` on its text first");
  if (tokenizer.empty())
    fail_at(path, 0, "an HF dataset of ids: give --tokenizer (its vocab.txt or folder) to check the ids against");
  if (world.is_main() && !fs::exists(fs::path(cache) / "manifest.json")) {
    fs::remove_all(cache);
    auto tok = text::Tokenizer::from_pretrained(tokenizer);
    // The imported data carries its tokenizer, as prepare's output does; import_hf writes it into the folder it
    // builds (written first, it would make the cache a non-empty folder that is not a dataset).
    data::import_hf(path, cache, data::shard_meta(tok, data::SentenceTask::nsp), false, &tok);
  }
  world.barrier();
  return std::make_shared<const data::ShardSet>(cache);
}

namespace {
bool has_tokenizer(const fs::path& dir) {
  return fs::is_directory(dir) && (fs::exists(dir / "tokenizer.json") || fs::exists(dir / "vocab.txt"));
}
}  // namespace

std::shared_ptr<const text::Tokenizer> dataset_tokenizer(const data::ShardSet& d, const std::string& path,
                                                         const std::string& given, const std::string& model_dir) {
  std::string source = given;
  if (source.empty() && has_tokenizer(path)) source = path;
  if (source.empty() && has_tokenizer(model_dir)) source = model_dir;
  if (source.empty()) return nullptr;
  auto tokenizer = std::make_shared<const text::Tokenizer>(text::Tokenizer::from_pretrained(source));
  std::uint64_t hash = data::shard_meta(*tokenizer, d.meta().task).vocab_hash;
  if (d.meta().vocab_hash != 0 && hash != d.meta().vocab_hash)
    fail_at(source, 0, "not the vocabulary " + path + " was prepared with (pass the tokenizer it was made with as --tokenizer)");
  return tokenizer;
}

void check_fits_model(const data::ShardSet& d, const model::BertConfig& c, const std::string& path) {
  const data::ShardMeta& m = d.meta();
  if (m.vocab_size != 0 && static_cast<std::int64_t>(m.vocab_size) != c.vocab_size)
    fail_at(path, 0, "prepared with a vocabulary of " + std::to_string(m.vocab_size) + " tokens but the model has "
                     "vocab_size " + std::to_string(c.vocab_size) + " (prepare it with the model's tokenizer)");
  for (auto [name, id] : {std::pair{"cls", m.special.cls}, {"sep", m.special.sep}, {"pad", m.special.pad},
                          {"mask", m.special.mask}, {"unk", m.special.unk}})
    if (id < 0 || id >= c.vocab_size)
      fail_at(path, 0, std::string("special token id ") + name + "=" + std::to_string(id) +
                           " is outside the model's vocabulary (vocab_size " + std::to_string(c.vocab_size) + ")");
  std::uint32_t longest = 0;
  for (std::uint64_t i = 0; i < d.size(); ++i) longest = std::max(longest, d.length(i));
  if (longest > c.max_position_embeddings)
    fail_at(path, 0, "a sequence of " + std::to_string(longest) + " tokens exceeds the model's max_position_embeddings " +
                         std::to_string(c.max_position_embeddings));
}

}  // namespace bertforge::eval
