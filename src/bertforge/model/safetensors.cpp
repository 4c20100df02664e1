#include "bertforge/model/safetensors.h"

#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "bertforge/util/atomic_file.h"
#include "bertforge/util/error.h"

namespace bertforge::model {

struct SafetensorsFile::Mapping {
  void* data = nullptr;
  std::size_t size = 0;
  ~Mapping() {
    if (data && data != MAP_FAILED) munmap(data, size);
  }
};

namespace {

const std::vector<std::pair<at::ScalarType, const char*>>& dtype_names() {
  static const std::vector<std::pair<at::ScalarType, const char*>> names{
      {at::kBool, "BOOL"},   {at::kByte, "U8"},    {at::kChar, "I8"},     {at::kShort, "I16"},
      {at::kUInt16, "U16"},  {at::kHalf, "F16"},   {at::kBFloat16, "BF16"}, {at::kInt, "I32"},
      {at::kUInt32, "U32"},  {at::kFloat, "F32"},  {at::kDouble, "F64"},  {at::kLong, "I64"},
      {at::kUInt64, "U64"},  {at::kComplexFloat, "C64"}, {at::kFloat8_e5m2, "F8_E5M2"},
      {at::kFloat8_e4m3fn, "F8_E4M3"}};
  return names;
}

}  // namespace

std::string safetensors_dtype(at::ScalarType type) {
  for (const auto& [t, name] : dtype_names())
    if (t == type) return name;
  throw Error(std::string("dtype ") + c10::toString(type) + " has no safetensors equivalent");
}

at::ScalarType scalar_type_of(const std::string& dtype, const std::string& where) {
  for (const auto& [t, name] : dtype_names())
    if (dtype == name) return t;
  throw Error(where + ": safetensors dtype " + dtype + " is not supported by LibTorch");
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path), map_(std::make_shared<Mapping>()) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    throw Error(path + ": cannot stat: " + std::strerror(errno));
  }
  map_->size = static_cast<std::size_t>(st.st_size);
  if (map_->size > 0) {
    // Private and writable: tensors may be modified in place without ever reaching the file.
    map_->data = mmap(nullptr, map_->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  }
  ::close(fd);
  if (map_->data == MAP_FAILED) throw Error(path + ": cannot map: " + std::strerror(errno));
  layout_ = parse_safetensors(static_cast<const std::uint8_t*>(map_->data), map_->size, path);
}

const SafetensorsEntry* SafetensorsFile::find(const std::string& name) const {
  for (const auto& e : layout_.entries)
    if (e.name == name) return &e;
  return nullptr;
}

at::Tensor SafetensorsFile::tensor(const std::string& name) const {
  const SafetensorsEntry* e = find(name);
  if (!e) throw Error(path_ + ": no tensor named '" + name + "'");
  at::ScalarType type = scalar_type_of(e->dtype, path_ + ": tensor '" + name + "'");
  auto* bytes = static_cast<std::uint8_t*>(map_->data) + layout_.data_start + e->begin;
  auto options = at::TensorOptions().dtype(type);
  if (e->end == e->begin) return at::empty(e->shape, options);
  if (reinterpret_cast<std::uintptr_t>(bytes) % safetensors_dtype_size(e->dtype) == 0) {
    auto keep = map_;
    return at::from_blob(bytes, e->shape, [keep](void*) {}, options);
  }
  at::Tensor out = at::empty(e->shape, options);
  std::memcpy(out.data_ptr(), bytes, e->end - e->begin);
  return out;
}

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::vector<std::pair<std::string, at::Tensor>> cpu;
  std::set<std::string> seen;
  for (const auto& [name, t] : tensors) {
    if (!seen.insert(name).second) throw Error(path + ": tensor name '" + name + "' given twice");
    cpu.emplace_back(name, t.detach().to(at::kCPU).contiguous());
  }
  // Larger elements first keeps every tensor aligned for its dtype, as the reference writer does.
  std::stable_sort(cpu.begin(), cpu.end(), [](const auto& a, const auto& b) {
    auto sa = a.second.element_size(), sb = b.second.element_size();
    return sa != sb ? sa > sb : a.first < b.first;
  });
  std::vector<SafetensorsEntry> entries;
  for (const auto& [name, t] : cpu) entries.push_back({name, safetensors_dtype(t.scalar_type()), t.sizes().vec()});
  std::string header = make_safetensors_header(entries, metadata);
  AtomicFile out(path);
  out.stream().write(header.data(), static_cast<std::streamsize>(header.size()));
  for (const auto& [name, t] : cpu)
    out.stream().write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
  out.commit();
}

}  // namespace bertforge::model
