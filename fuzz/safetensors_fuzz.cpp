// The safetensors parser (model/safetensors_format.h): any input parses or throws an Error naming the file.
// A parsed layout survives a round trip through the header writer with identical entries and metadata.
#include <string>

#include "bertforge/model/safetensors_format.h"
#include "harness.h"

using namespace bertforge;
using namespace bertforge::model;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  SafetensorsLayout layout;
  if (!fuzz::parses([&] { layout = parse_safetensors(data, size, "fuzz.safetensors"); }, "fuzz.safetensors")) return 0;
  std::vector<SafetensorsEntry> entries = layout.entries;
  std::string file = make_safetensors_header(entries, layout.metadata);
  file.append(size - layout.data_start, '\0');
  SafetensorsLayout again = parse_safetensors(reinterpret_cast<const std::uint8_t*>(file.data()), file.size(), "again");
  if (again.metadata != layout.metadata || again.entries.size() != layout.entries.size())
    fuzz::finding("safetensors layout changes in a round trip");
  for (std::size_t i = 0; i < again.entries.size(); ++i) {
    const auto &a = again.entries[i], &b = layout.entries[i];
    if (a.name != b.name || a.dtype != b.dtype || a.shape != b.shape || a.begin != b.begin || a.end != b.end)
      fuzz::finding("safetensors entry " + a.name + " changes in a round trip");
  }
  return 0;
}
