// oneDNN's fp32 GEMM (dnnl_sgemm of Debian's libdnnl), for the CPU linear layers where it beats ATen's (MKL).
//
// The library is opened at run time with its own symbols first (RTLD_DEEPBIND) and kept out of the global
// scope (RTLD_LOCAL): LibTorch carries another oneDNN inside, and both export the same weak template symbols
// (the std::call_once thunks of their GEMMs' JIT set-up). Linked the ordinary way, one library ran the other's
// version of that code: dnnl_sgemm returned garbage, or LibTorch's own oneDNN would have run Debian's.
// This file sees no LibTorch header, so <oneapi/dnnl/dnnl.h> here is the system's, matching the library.
#pragma once
#include <cstdint>
#include <string>

namespace bertforge::model {

// Whether this build can open the library at all: sanitizer runtimes (ASan, TSan) refuse RTLD_DEEPBIND, so a
// sanitizer build runs ATen's GEMM alone.
bool onednn_possible();

// Whether libdnnl.so.2 could be opened; `why` (when given) gets the reason where it could not.
bool onednn_available(std::string* why = nullptr);

// Row-major C[m x n] = op(A) op(B) + beta C, op transposing where trans_* is set (dnnl_sgemm's contract; lda,
// ldb, ldc are row strides). Runs on the calling thread's OpenMP threads (LibTorch's runtime, one for both).
// Error when the library is missing or the call fails.
void onednn_sgemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
                  std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc);

}  // namespace bertforge::model
