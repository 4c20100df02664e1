// safetensors files as LibTorch tensors.
//
//   SafetensorsFile f("model.safetensors");   // memory-maps and validates the whole layout (safetensors_format.h)
//   at::Tensor w = f.tensor("bert.pooler.dense.weight");   // CPU tensor of the file's dtype and shape
//   save_safetensors("out.safetensors", {{"a", a}, {"b", b}});   // atomic; __metadata__ {"format": "pt"}
//
// tensor() returns a view of the mapping when the bytes are aligned for the dtype (zero copy; the mapping
// stays alive as long as any such tensor does; the mapping is private, so writing to the tensor never touches
// the file), else a copy. Errors name the file: a missing key, an unsupported dtype.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bertforge/model/safetensors_format.h"

namespace bertforge::model {

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);
  const std::string& path() const { return path_; }
  const std::vector<SafetensorsEntry>& entries() const { return layout_.entries; }
  const std::map<std::string, std::string>& metadata() const { return layout_.metadata; }
  const SafetensorsEntry* find(const std::string& name) const;  // nullptr when absent
  at::Tensor tensor(const std::string& name) const;

 private:
  struct Mapping;
  std::string path_;
  std::shared_ptr<Mapping> map_;
  SafetensorsLayout layout_;
};

// Writes CPU or CUDA tensors of any dtype safetensors knows, in HF's order: larger dtypes first, then by
// name. Names must be unique.
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

// The safetensors name of a LibTorch dtype and back; Error for dtypes the other side lacks.
std::string safetensors_dtype(at::ScalarType type);
at::ScalarType scalar_type_of(const std::string& dtype, const std::string& where);

}  // namespace bertforge::model
