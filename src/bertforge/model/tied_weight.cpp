#include "bertforge/model/tied_weight.h"

#include <ATen/TensorOperators.h>
#include <torch/autograd.h>

namespace bertforge::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct TiedWeight : torch::autograd::Function<TiedWeight> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& weight) {
    ctx->set_materialize_grads(false);  // an unused output's gradient stays undefined, not a dense zero matrix
    return {weight.view_as(weight), weight.view_as(weight)};
  }

  // grads by reference: LibTorch passes its own list, so that moving out of it leaves the decoder's gradient
  // with one reference where nothing else holds it (a by-value list would be a second).
  static variable_list backward(AutogradContext*, variable_list& grads) {
    at::Tensor lookup = std::move(grads[0]), decoder = std::move(grads[1]);
    if (!decoder.defined()) return {lookup.defined() && lookup.is_sparse() ? lookup.to_dense() : lookup};
    if (!lookup.defined()) return {decoder};
    // InputBuffer's rule for accumulating in place: the one reference, no overlapping elements.
    if (decoder.use_count() == 1 && decoder.is_non_overlapping_and_dense()) return {decoder.add_(lookup)};
    return {decoder + lookup};
  }
};

}  // namespace

std::pair<at::Tensor, at::Tensor> tie_word_weight(const at::Tensor& weight) {
  variable_list both = TiedWeight::apply(weight);
  return {both[0], both[1]};
}

}  // namespace bertforge::model
