// Bit-exact fingerprints of tensors, for checking that every rank holds the same parameters without
// sending them: for each tensor, the sum of its elements' bit patterns as integers and the same sum weighted
// by position (so swapped elements differ too). Integer sums wrap identically everywhere, so equal tensors
// give equal fingerprints on any machine; a difference in any bit changes the first sum.
#pragma once
#include <ATen/Tensor.h>

#include <vector>

namespace bertforge::dist {

// int64 [tensors.size(), 2], on the tensors' device (CPU if there are none).
at::Tensor fingerprints(const std::vector<at::Tensor>& tensors);

}  // namespace bertforge::dist
