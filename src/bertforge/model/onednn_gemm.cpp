#include "bertforge/model/onednn_gemm.h"

#include <dlfcn.h>
#include <oneapi/dnnl/dnnl.h>

#include "bertforge/util/error.h"

namespace bertforge::model {
namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BERTFORGE_SANITIZED
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define BERTFORGE_SANITIZED
#endif
#endif
#ifdef BERTFORGE_SANITIZED
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

struct Library {
  decltype(&dnnl_sgemm) sgemm = nullptr;
  std::string error;
};

const Library& library() {
  static const Library lib = [] {
    Library l;
    if (kSanitized) {
      l.error = "a sanitizer build cannot open libraries with RTLD_DEEPBIND";
      return l;
    }
    void* handle = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (!handle) {
      l.error = dlerror();
      return l;
    }
    l.sgemm = reinterpret_cast<decltype(&dnnl_sgemm)>(dlsym(handle, "dnnl_sgemm"));
    if (!l.sgemm) l.error = "libdnnl.so.2 has no dnnl_sgemm";
    return l;
  }();
  return lib;
}

}  // namespace

bool onednn_possible() { return !kSanitized; }

bool onednn_available(std::string* why) {
  if (why) *why = library().error;
  return library().sgemm != nullptr;
}

void onednn_sgemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
                  std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc) {
  const Library& lib = library();
  if (!lib.sgemm) throw Error("oneDNN's GEMM is not available: " + lib.error);
  const dnnl_status_t status =
      lib.sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
  if (status != dnnl_success)
    throw Error("oneDNN's GEMM failed on [" + std::to_string(m) + " x " + std::to_string(k) + "] x [" +
                std::to_string(k) + " x " + std::to_string(n) + "] (dnnl status " + std::to_string(status) + ")");
}

}  // namespace bertforge::model
