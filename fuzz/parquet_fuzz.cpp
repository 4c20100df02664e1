// Parquet corpora (data/records.h for_each_parquet_text, through read_corpus): the input is the file, text
// is read from its "text" column. Arrow's own reader is not instrumented; what bertforge does with what it
// returns is.
#include "bertforge/data/corpus.h"
#include "harness.h"

using namespace bertforge;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::fresh_dir() + "/corpus.parquet";
  fuzz::write_file(path, {reinterpret_cast<const char*>(data), size});
  fuzz::parses([&] { data::read_corpus({path}, {}, [](data::Document&&) {}); }, path);
  return 0;
}
