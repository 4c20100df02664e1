# Provides the target bertforge::torch, BERTFORGE_CUDA (ON when the CUDA code paths are built) and
# BERTFORGE_TORCH_LIB_DIR (LibTorch's lib/ folder).
#
# The PyPI wheel is a CUDA build: its TorchConfig.cmake stops with a fatal error when no CUDA toolkit is
# installed. With a toolkit we use find_package(Torch) so the CUDA paths compile and link; without one (a
# CPU-only user) we link torch_cpu and c10 from the same prefix directly. LibTorch is found through
# CMAKE_PREFIX_PATH either way: the venv's torch.utils.cmake_prefix_path or a user's own LibTorch.
option(BERTFORGE_CPU_ONLY "Link LibTorch's CPU libraries even when a CUDA toolkit is present" OFF)
# A ROCm LibTorch finds HIP through its own config and shows AMD GPUs as `cuda` devices (untested here).
option(BERTFORGE_ROCM "LibTorch is a ROCm build: use its config as is, RCCL behind the NCCL backend" OFF)
find_package(CUDAToolkit QUIET)

add_library(bertforge::torch INTERFACE IMPORTED)
# libtorch.so exports its own copy of std::filesystem (remove_all, permissions, ...), and the copy's
# remove_all jumps to address 0. Naming libstdc++ before LibTorch makes the dynamic linker bind those symbols
# to the system's libstdc++ instead.
target_link_libraries(bertforge::torch INTERFACE "-Wl,--push-state,--no-as-needed" stdc++ "-Wl,--pop-state")
find_path(BERTFORGE_TORCH_CONFIG_DIR TorchConfig.cmake PATH_SUFFIXES Torch share/cmake/Torch REQUIRED)
get_filename_component(_torch_lib_dir "${BERTFORGE_TORCH_CONFIG_DIR}/../../../lib" ABSOLUTE)
if(BERTFORGE_ROCM OR (CUDAToolkit_FOUND AND NOT BERTFORGE_CPU_ONLY))
  # Torch's CUDA config wants an architecture list; Hopper and Ampere cover the machines we run on.
  if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
    set(ENV{TORCH_CUDA_ARCH_LIST} "8.0;9.0")
  endif()
  # Two warnings of LibTorch's config that no user can act on are avoided at their cause. Its
  # enable_language(CUDA) would define CMAKE_CUDA_ARCHITECTURES (policy CMP0104), which it then ignores, with a
  # warning, for TORCH_CUDA_ARCH_LIST; bertforge compiles no CUDA code. And the wheel links kineto into
  # libtorch_cpu instead of shipping libkineto: naming that library as kineto's keeps the config from
  # reporting it missing.
  find_library(kineto_LIBRARY NAMES kineto torch_cpu PATHS "${_torch_lib_dir}" NO_DEFAULT_PATH)
  cmake_policy(PUSH)
  cmake_policy(SET CMP0104 OLD)
  find_package(Torch REQUIRED CONFIG)
  cmake_policy(POP)
  set(BERTFORGE_TORCH_LIB_DIR "${TORCH_INSTALL_PREFIX}/lib")
  target_link_libraries(bertforge::torch INTERFACE ${TORCH_LIBRARIES})
  separate_arguments(_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
  target_compile_options(bertforge::torch INTERFACE ${_torch_flags})
  set(BERTFORGE_CUDA ON)
else()
  get_filename_component(_torch_root "${BERTFORGE_TORCH_CONFIG_DIR}/../../.." ABSOLUTE)
  set(BERTFORGE_TORCH_LIB_DIR "${_torch_root}/lib")
  foreach(_lib torch torch_cpu c10)
    find_library(BERTFORGE_LIB_${_lib} ${_lib} PATHS "${_torch_root}/lib" NO_DEFAULT_PATH REQUIRED)
    target_link_libraries(bertforge::torch INTERFACE "${BERTFORGE_LIB_${_lib}}")
  endforeach()
  target_include_directories(bertforge::torch SYSTEM INTERFACE "${_torch_root}/include"
                             "${_torch_root}/include/torch/csrc/api/include")
  # The C++ ABI flag LibTorch was built with is written into its config; mismatching it fails at link time.
  file(STRINGS "${BERTFORGE_TORCH_CONFIG_DIR}/TorchConfig.cmake" _abi REGEX "_GLIBCXX_USE_CXX11_ABI=[01]")
  string(REGEX MATCH "_GLIBCXX_USE_CXX11_ABI=[01]" _abi "${_abi}")
  if(_abi)
    target_compile_definitions(bertforge::torch INTERFACE ${_abi})
  endif()
  set(BERTFORGE_CUDA OFF)
endif()
message(STATUS "bertforge: LibTorch CUDA paths ${BERTFORGE_CUDA}")
