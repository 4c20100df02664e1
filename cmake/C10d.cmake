# Provides bertforge::c10d: what src/bertforge/dist needs to include c10d's backend headers.
#
# ProcessGroupGloo.hpp includes gloo's headers, which the LibTorch wheel does not ship; Debian's libgloo-dev
# has them (headers only: libgloo is not linked, the Gloo that runs is the copy inside libtorch_cpu).
# ProcessGroupNCCL.hpp needs nccl.h, which the wheel's nvidia-nccl package ships beside torch; it is built
# only with the CUDA paths (BERTFORGE_CUDA).
add_library(bertforge::c10d INTERFACE IMPORTED)
find_path(BERTFORGE_GLOO_INCLUDE gloo/context.h REQUIRED)
target_include_directories(bertforge::c10d SYSTEM INTERFACE "${BERTFORGE_GLOO_INCLUDE}")
target_compile_definitions(bertforge::c10d INTERFACE USE_C10D_GLOO)
if(BERTFORGE_CUDA)
  if(BERTFORGE_ROCM)  # a hipified ProcessGroupNCCL.hpp includes rccl/rccl.h
    find_path(BERTFORGE_NCCL_INCLUDE rccl/rccl.h HINTS /opt/rocm/include REQUIRED)
  else()
    find_path(BERTFORGE_NCCL_INCLUDE nccl.h HINTS "${TORCH_INSTALL_PREFIX}/../nvidia/nccl/include" REQUIRED)
  endif()
  target_include_directories(bertforge::c10d SYSTEM INTERFACE "${BERTFORGE_NCCL_INCLUDE}")
  target_compile_definitions(bertforge::c10d INTERFACE USE_C10D_NCCL BERTFORGE_WITH_NCCL)
endif()
