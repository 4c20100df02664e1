// HF save_to_disk folders (data/records.h, data/hf_dataset.h): the input before its first NUL is state.json,
// the rest the Arrow stream file data-00000-of-00001.arrow. The folder is read as a text corpus ("text"
// column) and imported as token ids (input_ids, attention_mask, token_type_ids, next_sentence_label); an
// import that succeeds opens as a prepared folder. Arrow's own reader is not instrumented.
#include <filesystem>

#include "bertforge/data/corpus.h"
#include "bertforge/data/hf_dataset.h"
#include "harness.h"

using namespace bertforge;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string dir = fuzz::fresh_dir(), hf = dir + "/hf", out = dir + "/prepared";
  std::filesystem::create_directories(hf);
  auto [state, arrow] = fuzz::split_at_nul(data, size);
  fuzz::write_file(hf + "/state.json", state);
  fuzz::write_file(hf + "/data-00000-of-00001.arrow", arrow);
  fuzz::parses([&] { data::read_corpus({hf}, {}, [](data::Document&&) {}); }, hf);
  data::ShardMeta meta;
  meta.vocab_size = 1000;
  meta.special = {101, 102, 0, 103, 100};
  if (!fuzz::parses([&] { data::import_hf(hf, out, meta); }, hf)) return 0;
  data::ShardSet shards(out);
  data::Examples ex;
  for (std::uint64_t i = 0; i < shards.size(); ++i) shards.append(i, ex);
  return 0;
}
