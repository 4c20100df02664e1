// The safetensors layout (huggingface/safetensors README, "Format"), independent of any tensor library:
//   8 bytes  N, unsigned little-endian
//   N bytes  JSON object {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//                         "__metadata__": {"key": "value", ...}}   (may be padded with trailing spaces)
//   rest     the tensor bytes, little-endian, C order; offsets are relative to the start of this region.
// parse_safetensors checks everything before anything is read: N within the file and at most 100 MB, valid
// UTF-8 JSON, known dtypes, non-negative shapes, end - begin == numel * dtype size (no overflow), and the
// byte ranges tiling the data region exactly (no overlap, no hole, nothing past the end or left over).
// Any violation throws Error "<path>: why". This header has no LibTorch dependency so the fuzzer links it alone.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bertforge::model {

struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // "F32", "BF16", "I64", ...
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0, end = 0;  // byte range within the data region
};

struct SafetensorsLayout {
  std::vector<SafetensorsEntry> entries;  // in data order
  std::map<std::string, std::string> metadata;
  std::uint64_t data_start = 0;  // file offset of the data region (8 + N)
};

// Bytes per element of a safetensors dtype name; 0 when the name is not a known dtype.
std::size_t safetensors_dtype_size(const std::string& dtype);

SafetensorsLayout parse_safetensors(const std::uint8_t* file, std::size_t size, const std::string& path);

// The 8-byte length and JSON header for entries laid out in the given order (offsets are assigned here,
// contiguously from 0), as HF's writer makes them: __metadata__ first, header space-padded to a multiple
// of 8 bytes so the data region starts aligned. Returns the header bytes; entries get their offsets.
std::string make_safetensors_header(std::vector<SafetensorsEntry>& entries,
                                    const std::map<std::string, std::string>& metadata);

}  // namespace bertforge::model
