// libFuzzer target for the safetensors parser (model/safetensors_format.h). Any input must either parse or
// throw bertforge::Error: never crash, read out of bounds or overflow (ASan/UBSan watch). A parsed layout
// must survive a round trip through the header writer with identical entries and metadata.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "bertforge/model/safetensors_format.h"
#include "bertforge/util/error.h"

using namespace bertforge::model;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  SafetensorsLayout layout;
  try {
    layout = parse_safetensors(data, size, "fuzz");
  } catch (const bertforge::Error&) {
    return 0;
  }
  std::vector<SafetensorsEntry> entries = layout.entries;
  std::string file = make_safetensors_header(entries, layout.metadata);
  file.append(size - layout.data_start, '\0');
  SafetensorsLayout again = parse_safetensors(reinterpret_cast<const std::uint8_t*>(file.data()), file.size(), "again");
  if (again.metadata != layout.metadata || again.entries.size() != layout.entries.size()) std::abort();
  for (std::size_t i = 0; i < again.entries.size(); ++i) {
    const auto &a = again.entries[i], &b = layout.entries[i];
    if (a.name != b.name || a.dtype != b.dtype || a.shape != b.shape || a.begin != b.begin || a.end != b.end)
      std::abort();
  }
  return 0;
}
