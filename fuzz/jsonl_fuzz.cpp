// JSONL corpora (data/corpus.h, data/records.h): the first input byte picks the corpus options
// (fuzz::corpus_options), the rest is the file; text is read from the "text" field.
#include "bertforge/data/corpus.h"
#include "harness.h"

using namespace bertforge;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const data::CorpusOptions o = fuzz::corpus_options(data[0]);
  const std::string path = fuzz::fresh_dir() + "/corpus.jsonl";
  fuzz::write_file(path, {reinterpret_cast<const char*>(data) + 1, size - 1});
  fuzz::parses([&] { data::read_corpus({path}, o, [](data::Document&&) {}); }, path);
  return 0;
}
