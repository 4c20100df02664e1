// Prepared folders (data/shard.h): the input before its first NUL is manifest.json, the rest the shard file
// it names shard-00000.bin. A folder that opens yields every sequence within its file's bounds (ASan checks
// the reads) with type0 <= length.
#include <optional>

#include "bertforge/data/shard.h"
#include "harness.h"

using namespace bertforge;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string dir = fuzz::fresh_dir();
  auto [manifest, shard] = fuzz::split_at_nul(data, size);
  fuzz::write_file(dir + "/manifest.json", manifest);
  fuzz::write_file(dir + "/shard-00000.bin", shard);
  std::optional<data::ShardSet> set;
  if (!fuzz::parses([&] { set.emplace(dir); }, dir)) return 0;
  data::Examples out;
  for (std::uint64_t i = 0; i < set->size(); ++i) {
    set->append(i, out);
    if (out.type0.back() > out.ids.size() - out.begin_of(out.size() - 1)) fuzz::finding("type0 beyond the sequence");
  }
  return 0;
}
