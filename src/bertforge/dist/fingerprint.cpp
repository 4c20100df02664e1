#include "bertforge/dist/fingerprint.h"

#include <ATen/ATen.h>

#include "bertforge/util/error.h"

namespace bertforge::dist {

namespace {
at::ScalarType bits_type(const at::Tensor& t) {
  switch (t.element_size()) {
    case 1: return at::kChar;
    case 2: return at::kShort;
    case 4: return at::kInt;
    case 8: return at::kLong;
  }
  throw Error("parameter check: unsupported element size " + std::to_string(t.element_size()));
}
}  // namespace

at::Tensor fingerprints(const std::vector<at::Tensor>& tensors) {
  // Chunks bound the int64 temporaries (a 30k x 768 embedding would need 190 MB at once).
  constexpr std::int64_t kChunk = 1 << 20;
  at::Device device = tensors.empty() ? at::Device(at::kCPU) : tensors.front().device();
  at::Tensor out = at::zeros({static_cast<std::int64_t>(tensors.size()), 2}, at::TensorOptions(at::kLong).device(device));
  for (std::size_t k = 0; k < tensors.size(); ++k) {
    at::Tensor bits = tensors[k].detach().contiguous().view(bits_type(tensors[k])).reshape(-1);
    for (std::int64_t start = 0; start < bits.numel(); start += kChunk) {
      at::Tensor x = bits.narrow(0, start, std::min(kChunk, bits.numel() - start)).to(at::kLong);
      at::Tensor position = at::arange(start + 1, start + 1 + x.numel(), x.options());
      out[static_cast<std::int64_t>(k)][0] += x.sum();
      out[static_cast<std::int64_t>(k)][1] += (x * position).sum();
    }
  }
  return out;
}

}  // namespace bertforge::dist
