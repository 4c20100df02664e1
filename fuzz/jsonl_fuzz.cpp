// JSONL corpora (data/corpus.h, data/records.h): the first input byte picks the layout and a small line
// limit, the rest is the file; text is read from the "text" field.
#include "bertforge/data/corpus.h"
#include "harness.h"

using namespace bertforge;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const data::Layout layouts[] = {data::Layout::automatic, data::Layout::blocks,   data::Layout::file,
                                         data::Layout::record,    data::Layout::wikitext, data::Layout::bible};
  data::CorpusOptions o;
  o.layout = layouts[data[0] % 6];
  o.max_line_bytes = data[0] & 32 ? 64 : 1 << 20;
  const std::string path = fuzz::fresh_dir() + "/corpus.jsonl";
  fuzz::write_file(path, {reinterpret_cast<const char*>(data) + 1, size - 1});
  fuzz::parses([&] { data::read_corpus({path}, o, [](data::Document&&) {}); }, path);
  return 0;
}
