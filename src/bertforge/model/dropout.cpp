#include "bertforge/model/dropout.h"

#include <ATen/CPUGeneratorImpl.h>  // the default CPU generator, source of each call's key
#include <ATen/Parallel.h>          // at::parallel_for
#include <ATen/TensorOperators.h>
#include <ATen/ops/dropout.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/result_type.h>
#include <torch/autograd.h>  // torch::autograd::Function

#include <atomic>
#include <cmath>
#include <cstring>
#include <mutex>

#include "bertforge/util/error.h"

// The kernels are compiled for AVX-512, AVX2 and baseline x86-64 and the loader picks one at start-up by the
// CPU's features (an "arch=" clone would be taken only on that vendor's models: AMD's AVX-512 would not get
// it). Each clone vectorises the loops: 16 Philox counters side by side as one vector value (below), the
// element loops with everything they read in locals.
#if defined(__x86_64__) && defined(__GNUC__)
#define BERTFORGE_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define BERTFORGE_CLONES
#endif

namespace bertforge::model {
namespace {

using BF16 = c10::BFloat16;
constexpr std::int64_t kLanes = 16;           // counters drawn side by side
constexpr std::int64_t kBlock = 4 * kLanes;   // elements per block: word w of counter lane l is element 16 w + l
constexpr std::int64_t kGrainBlocks = 1024;   // 64 Ki elements per task

struct Draw {
  std::uint32_t key0, key1, threshold;
  float scale;
};

struct Pointers {
  const void* x;
  const void* residual;
  void* out;
  std::uint8_t* mask;
  std::int64_t n;
};

inline float load(float v) { return v; }
inline float load(BF16 v) {
  std::uint32_t bits = static_cast<std::uint32_t>(v.x) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
template <typename T>
inline T store(float v);
template <>
inline float store<float>(float v) {
  return v;
}
template <>
inline BF16 store<BF16>(float v) {  // round to nearest even, as c10::BFloat16, branch-free so it vectorises
  std::uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  std::uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
  return BF16(static_cast<std::uint16_t>(v != v ? 0x7fc0u : rounded), BF16::from_bits());
}

// 16 lanes of 32 bits as one value: GCC and clang compile the arithmetic below to one AVX-512 register, two
// AVX2 ones or four SSE2 ones, in whichever clone it is inlined into.
using U32x16 = std::uint32_t __attribute__((vector_size(64)));
using U64x8 = std::uint64_t __attribute__((vector_size(64)));

// The 64-bit products m * a of every lane, as their low and high 32-bit halves (a 32 x 32 -> 64 multiply per
// lane: the even lanes and the odd lanes each as 64-bit lanes, then interleaved back).
inline __attribute__((always_inline)) void mul_wide(U32x16 a, std::uint32_t m, U32x16& lo, U32x16& hi) {
  const U64x8 a64 = reinterpret_cast<U64x8>(a);
  const U64x8 even = (a64 & 0xffffffffu) * m, odd = (a64 >> 32) * m;
  lo = reinterpret_cast<U32x16>((even & 0xffffffffu) | (odd << 32));
  hi = reinterpret_cast<U32x16>((even >> 32) | (odd & 0xffffffff00000000u));
}

// Philox4x32-10 at counters (block * 16 + l, 0, 0, 0), l < 16: r[w][l] is word w of lane l.
inline __attribute__((always_inline)) void philox_block(std::uint64_t block, const Draw& d,
                                                        std::uint32_t r[4][kLanes]) {
  // block * 16 is a multiple of 16, so adding the lane never carries into the counter's high word.
  const std::uint64_t first = block * kLanes;
  U32x16 c0 = U32x16{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15} + static_cast<std::uint32_t>(first);
  U32x16 c1 = U32x16{} + static_cast<std::uint32_t>(first >> 32), c2 = U32x16{}, c3 = U32x16{};
  std::uint32_t k0 = d.key0, k1 = d.key1;
  for (int round = 0; round < 10; ++round) {
    U32x16 lo0, hi0, lo1, hi1;
    mul_wide(c0, 0xD2511F53u, lo0, hi0);
    mul_wide(c2, 0xCD9E8D57u, lo1, hi1);
    const U32x16 n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0, c1 = lo1, c2 = n2, c3 = lo0;
    k0 += 0x9E3779B9u, k1 += 0xBB67AE85u;
  }
  std::memcpy(r[0], &c0, sizeof c0), std::memcpy(r[1], &c1, sizeof c1);
  std::memcpy(r[2], &c2, sizeof c2), std::memcpy(r[3], &c3, sizeof c3);
}

template <bool kAdd, typename X, typename R, typename O>
inline __attribute__((always_inline)) void forward_blocks(const Pointers& p, const Draw& d, std::int64_t b0,
                                                          std::int64_t b1) {
  // Everything the element loop reads is a local: its byte stores to the mask could otherwise alias p and d,
  // which would then be reloaded at every element and keep the loop scalar.
  const X* __restrict__ x = static_cast<const X*>(p.x);
  const R* __restrict__ res = static_cast<const R*>(p.residual);
  O* __restrict__ out = static_cast<O*>(p.out);
  std::uint8_t* __restrict__ mask = p.mask;
  const std::uint32_t threshold = d.threshold;
  const float scale = d.scale;
  const std::int64_t n = p.n;
  std::uint32_t r[4][kLanes];
  for (std::int64_t b = b0; b < b1; ++b) {
    philox_block(static_cast<std::uint64_t>(b), d, r);
    const std::int64_t base = b * kBlock;
    auto element = [&](std::int64_t i, std::uint32_t draw) {
      bool keep = draw >= threshold;
      mask[i] = keep;
      float v = keep ? load(x[i]) * scale : 0.0f;
      if constexpr (kAdd) v += load(res[i]);
      out[i] = store<O>(v);
    };
    if (base + kBlock <= n) {
      for (std::int64_t w = 0; w < 4; ++w)
        for (std::int64_t l = 0; l < kLanes; ++l) element(base + w * kLanes + l, r[w][l]);
    } else {
      for (std::int64_t w = 0; w < 4; ++w)
        for (std::int64_t l = 0; l < kLanes && base + w * kLanes + l < n; ++l) element(base + w * kLanes + l, r[w][l]);
    }
  }
}

template <typename G, typename X>
inline __attribute__((always_inline)) void backward_range(const G* g, const std::uint8_t* mask, X* gx, float scale,
                                                          std::int64_t i0, std::int64_t i1) {
  // g is read at every element (a multiply by 0, not a branch), so that the loop vectorises; as ATen's
  // dropout backward, a non-finite gradient stays non-finite where the element was dropped.
  for (std::int64_t i = i0; i < i1; ++i) gx[i] = store<X>(load(g[i]) * (mask[i] ? scale : 0.0f));
}

using ForwardKernel = void (*)(const Pointers&, const Draw&, std::int64_t, std::int64_t);
using BackwardKernel = void (*)(const void*, const std::uint8_t*, void*, float, std::int64_t, std::int64_t);

#define BERTFORGE_FORWARD(name, add, X, R, O)                                                     \
  BERTFORGE_CLONES void name(const Pointers& p, const Draw& d, std::int64_t b0, std::int64_t b1) { \
    forward_blocks<add, X, R, O>(p, d, b0, b1);                                                   \
  }
BERTFORGE_FORWARD(forward_f, false, float, float, float)
BERTFORGE_FORWARD(forward_b, false, BF16, BF16, BF16)
BERTFORGE_FORWARD(forward_add_fff, true, float, float, float)
BERTFORGE_FORWARD(forward_add_bbb, true, BF16, BF16, BF16)
BERTFORGE_FORWARD(forward_add_bff, true, BF16, float, float)
BERTFORGE_FORWARD(forward_add_fbf, true, float, BF16, float)
#undef BERTFORGE_FORWARD

#define BERTFORGE_BACKWARD(name, G, X)                                                                        \
  BERTFORGE_CLONES void name(const void* g, const std::uint8_t* m, void* gx, float s, std::int64_t i0,       \
                             std::int64_t i1) {                                                              \
    backward_range<G, X>(static_cast<const G*>(g), m, static_cast<X*>(gx), s, i0, i1);                     \
  }
BERTFORGE_BACKWARD(backward_ff, float, float)
BERTFORGE_BACKWARD(backward_bb, BF16, BF16)
BERTFORGE_BACKWARD(backward_fb, float, BF16)
#undef BERTFORGE_BACKWARD

ForwardKernel forward_kernel(at::ScalarType x, at::ScalarType r, bool add) {
  const auto f = at::kFloat, b = at::kBFloat16;
  if (!add) return x == f ? forward_f : forward_b;
  if (x == f) return r == f ? forward_add_fff : forward_add_fbf;
  return r == b ? forward_add_bbb : forward_add_bff;
}

BackwardKernel backward_kernel(at::ScalarType g, at::ScalarType x) {
  if (g == x) return g == at::kFloat ? backward_ff : backward_bb;
  return backward_fb;
}

Draw next_draw(double p) {
  auto* gen = at::check_generator<at::CPUGeneratorImpl>(at::detail::getDefaultCPUGenerator());
  std::uint64_t key;
  {
    std::lock_guard<std::mutex> lock(gen->mutex_);
    key = gen->random64();
  }
  double t = std::ldexp(p, 32);
  return {static_cast<std::uint32_t>(key), static_cast<std::uint32_t>(key >> 32),
          static_cast<std::uint32_t>(std::min(t, 4294967295.0)), static_cast<float>(1.0 / (1.0 - p))};
}

// Draws the mask and writes x * keep * scale (+ residual) in the promoted type; returns {out, mask}.
std::pair<at::Tensor, at::Tensor> draw_forward(const at::Tensor& x, const at::Tensor& residual, double p) {
  bool add = residual.defined();
  auto xc = x.contiguous();
  auto rc = add ? residual.contiguous() : at::Tensor();
  auto out_type = add ? at::result_type(x, residual) : x.scalar_type();
  auto out = at::empty(x.sizes(), x.options().dtype(out_type));
  auto mask = at::empty(x.sizes(), x.options().dtype(at::kByte));
  Pointers ptr{xc.data_ptr(), add ? rc.data_ptr() : nullptr, out.data_ptr(), mask.data_ptr<std::uint8_t>(),
               x.numel()};
  Draw d = next_draw(p);
  ForwardKernel k = forward_kernel(x.scalar_type(), add ? residual.scalar_type() : x.scalar_type(), add);
  at::parallel_for(0, (ptr.n + kBlock - 1) / kBlock, kGrainBlocks,
                   [&](std::int64_t b0, std::int64_t b1) { k(ptr, d, b0, b1); });
  return {out, mask};
}

at::Tensor masked_grad(const at::Tensor& grad, const at::Tensor& mask, double scale, at::ScalarType x_type) {
  auto g = grad.contiguous();
  auto gx = at::empty(g.sizes(), g.options().dtype(x_type));
  BackwardKernel k = backward_kernel(g.scalar_type(), x_type);
  const void* gp = g.data_ptr();
  const std::uint8_t* mp = mask.data_ptr<std::uint8_t>();
  void* out = gx.data_ptr();
  at::parallel_for(0, g.numel(), kGrainBlocks * kBlock,
                   [&](std::int64_t i0, std::int64_t i1) { k(gp, mp, out, static_cast<float>(scale), i0, i1); });
  return gx;
}

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct DropoutFunction : torch::autograd::Function<DropoutFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, double p) {
    auto [out, mask] = draw_forward(x, {}, p);
    ctx->save_for_backward({mask});
    ctx->saved_data["scale"] = 1.0 / (1.0 - p);
    ctx->saved_data["x_type"] = static_cast<std::int64_t>(x.scalar_type());
    return out;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto x_type = static_cast<at::ScalarType>(ctx->saved_data["x_type"].toInt());
    return {masked_grad(grads[0], ctx->get_saved_variables()[0], ctx->saved_data["scale"].toDouble(), x_type), {}};
  }
};

struct DropoutAddFunction : torch::autograd::Function<DropoutAddFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& residual, double p) {
    auto [out, mask] = draw_forward(x, residual, p);
    ctx->save_for_backward({mask});
    ctx->saved_data["scale"] = 1.0 / (1.0 - p);
    ctx->saved_data["x_type"] = static_cast<std::int64_t>(x.scalar_type());
    ctx->saved_data["r_type"] = static_cast<std::int64_t>(residual.scalar_type());
    return out;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto x_type = static_cast<at::ScalarType>(ctx->saved_data["x_type"].toInt());
    auto r_type = static_cast<at::ScalarType>(ctx->saved_data["r_type"].toInt());
    return {masked_grad(grads[0], ctx->get_saved_variables()[0], ctx->saved_data["scale"].toDouble(), x_type),
            grads[0].to(r_type), {}};
  }
};

std::atomic<bool> fused_on{true};

bool fused(const at::Tensor& x) {
  auto t = x.scalar_type();
  return fused_on && x.device().is_cpu() && (t == at::kFloat || t == at::kBFloat16);
}

void check_p(double p) {
  if (!(p >= 0 && p < 1)) throw Error("dropout: probability " + std::to_string(p) + " outside [0, 1)");
}

}  // namespace

void set_fused_dropout(bool on) { fused_on = on; }
bool fused_dropout() { return fused_on; }

at::Tensor dropout(const at::Tensor& x, double p, bool train) {
  check_p(p);
  if (!train || p == 0) return x;
  if (!fused(x)) return at::dropout(x, p, true);
  return DropoutFunction::apply(x, p);
}

at::Tensor dropout_add(const at::Tensor& x, const at::Tensor& residual, double p, bool train) {
  check_p(p);
  if (!train || p == 0) return x + residual;
  if (!fused(x) || !fused(residual) || x.sizes() != residual.sizes()) return at::dropout(x, p, true) + residual;
  return DropoutAddFunction::apply(x, residual, p);
}

}  // namespace bertforge::model
