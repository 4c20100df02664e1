#include "bertforge/model/safetensors_format.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>  // json: the header

#include "bertforge/util/error.h"

namespace bertforge::model {
namespace {

using nlohmann::json;
constexpr std::uint64_t kMaxHeader = 100'000'000;  // the reference implementation's limit

[[noreturn]] void bad(const std::string& path, const std::string& why) {
  throw Error(path + ": not a valid safetensors file: " + why);
}

SafetensorsEntry parse_entry(const std::string& name, const json& v, const std::string& path) {
  const std::string where = "tensor '" + name + "': ";
  if (!v.is_object()) bad(path, where + "expected an object");
  SafetensorsEntry e;
  e.name = name;
  auto dtype = v.find("dtype");
  auto shape = v.find("shape");
  auto offsets = v.find("data_offsets");
  if (dtype == v.end() || !dtype->is_string()) bad(path, where + "missing or non-string dtype");
  e.dtype = dtype->get<std::string>();
  std::size_t elem = safetensors_dtype_size(e.dtype);
  if (elem == 0) bad(path, where + "unknown dtype '" + e.dtype + "'");
  if (shape == v.end() || !shape->is_array()) bad(path, where + "missing shape");
  std::uint64_t numel = 1;
  for (const auto& d : *shape) {
    if (!d.is_number_unsigned()) bad(path, where + "shape entries must be non-negative integers");
    auto n = d.get<std::uint64_t>();
    if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ||
        (n != 0 && numel > std::numeric_limits<std::uint64_t>::max() / n))
      bad(path, where + "shape overflows");
    numel *= n;
    e.shape.push_back(static_cast<std::int64_t>(n));
  }
  if (offsets == v.end() || !offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
      !(*offsets)[1].is_number_unsigned())
    bad(path, where + "data_offsets must be two non-negative integers");
  e.begin = (*offsets)[0].get<std::uint64_t>();
  e.end = (*offsets)[1].get<std::uint64_t>();
  if (e.end < e.begin) bad(path, where + "data_offsets end before begin");
  if (numel > std::numeric_limits<std::uint64_t>::max() / elem || e.end - e.begin != numel * elem)
    bad(path, where + "data_offsets span " + std::to_string(e.end - e.begin) + " bytes but dtype and shape need " +
                  std::to_string(numel * elem));
  if (v.size() != 3) bad(path, where + "unexpected fields");
  return e;
}

}  // namespace

std::size_t safetensors_dtype_size(const std::string& dtype) {
  static const std::map<std::string, std::size_t> sizes{
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},
      {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4},     {"F64", 8},     {"I64", 8}, {"U64", 8}, {"C64", 8}};
  auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

SafetensorsLayout parse_safetensors(const std::uint8_t* file, std::size_t size, const std::string& path) {
  if (size < 8) bad(path, "shorter than the 8-byte header length (truncated?)");
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | file[i];
  if (n > kMaxHeader) bad(path, "header length " + std::to_string(n) + " exceeds the 100 MB limit");
  if (n > size - 8) bad(path, "header length " + std::to_string(n) + " runs past the end of the file (truncated?)");
  // JSON text never holds a raw NUL, and the parser would stop at one and ignore what follows.
  if (std::memchr(file + 8, 0, n)) bad(path, "header contains a NUL byte");
  json header;
  try {
    header = json::parse(file + 8, file + 8 + n);
  } catch (const json::exception& e) {
    bad(path, std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) bad(path, "header is not a JSON object");
  SafetensorsLayout layout;
  layout.data_start = 8 + n;
  for (const auto& [name, value] : header.items()) {
    if (name != "__metadata__") {
      layout.entries.push_back(parse_entry(name, value, path));
      continue;
    }
    if (!value.is_object()) bad(path, "__metadata__ is not an object");
    for (const auto& [k, v] : value.items()) {
      if (!v.is_string()) bad(path, "__metadata__ value for '" + k + "' is not a string");
      layout.metadata[k] = v.get<std::string>();
    }
  }
  std::sort(layout.entries.begin(), layout.entries.end(), [](const auto& a, const auto& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t at = 0;
  for (const auto& e : layout.entries) {
    if (e.begin != at)
      bad(path, "tensor '" + e.name + "' starts at byte " + std::to_string(e.begin) + ", expected " +
                    std::to_string(at) + (e.begin < at ? " (overlaps the previous tensor)" : " (hole)"));
    at = e.end;
  }
  if (at != size - layout.data_start)
    bad(path, "tensors cover " + std::to_string(at) + " data bytes but the file holds " +
                  std::to_string(size - layout.data_start) + (at > size - layout.data_start ? " (truncated?)" : ""));
  return layout;
}

std::string make_safetensors_header(std::vector<SafetensorsEntry>& entries,
                                    const std::map<std::string, std::string>& metadata) {
  auto header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t at = 0;
  for (auto& e : entries) {
    std::uint64_t numel = 1;
    for (auto d : e.shape) numel *= static_cast<std::uint64_t>(d);
    e.begin = at;
    e.end = at += numel * safetensors_dtype_size(e.dtype);
    header[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {e.begin, e.end}}};
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((static_cast<std::uint64_t>(text.size()) >> (8 * i)) & 0xff);
  return out + text;
}

}  // namespace bertforge::model
