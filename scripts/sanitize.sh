#!/usr/bin/env bash
# The sanitizer builds, with clang beside the plain build (LibTorch's CPU libraries; LibTorch and Arrow are
# not instrumented, tests/sanitizers/ holds the few suppressions their internals need):
#   torch-free  build-asan, ASan + UBSan: test_torch_free (tests/sanitizers/: the tests of the LibTorch-free
#               files, the tokenizer and every parser); minutes, not hours.
#   tsan        build-tsan, TSan: test_torch_free (TokenizeStream.*: the parallel tokenizer's threads) and
#               test_loader (Loader.*: the loader's prefetch thread); minutes.
#   fuzz        each fuzz target in build-asan for 4000 inputs from a fixed seed, the same on every machine
#               (fuzz/run.sh --seconds N hunts longer).
#   asan        build-asan, ASan + UBSan: every C++ test (the Python session excepted); all of bertforge
#               instrumented, the longest by far (run by hand).
# usage: scripts/sanitize.sh [torch-free] [tsan] [fuzz] [asan]   (default all four; scripts/test.sh runs the
#        first three after the plain tests)
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/setup.sh"
stages=("$@")
((${#stages[@]})) || stages=(torch-free tsan fuzz asan)
export CXX=clang++
sup="$root/tests/sanitizers"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1"
export LSAN_OPTIONS="suppressions=$sup/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="suppressions=$sup/ubsan.supp:print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="suppressions=$sup/tsan.supp:halt_on_error=1:second_deadlock_stack=1"
jobs="$(nproc)"
# -O1: the heavy arithmetic is LibTorch's own (not instrumented), so our code at -O1 costs the tests little
# and compiles much faster than at -O3.
opt=(-DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG")
asan="${BERTFORGE_BUILD_ASAN:-$root/build-asan}" tsan="${BERTFORGE_BUILD_TSAN:-$root/build-tsan}"
configure_asan() {
  configure_build "$asan" -DBERTFORGE_SANITIZE=address,undefined -DBERTFORGE_FUZZ=ON -DBERTFORGE_BENCH=OFF \
                  -DBERTFORGE_CPU_ONLY=ON "${opt[@]}"
}
configure_tsan() {
  configure_build "$tsan" -DBERTFORGE_SANITIZE=thread -DBERTFORGE_BENCH=OFF -DBERTFORGE_CPU_ONLY=ON "${opt[@]}"
}
# Builds and runs a test executable of tests/sanitizers/ in a sanitizer build.
run_in() {
  cmake --build "$1" --target "$2"
  echo "sanitize.sh: $2 in $1"
  "$1/tests/sanitizers/$2" --gtest_brief=1
}
for stage in "${stages[@]}"; do
  case "$stage" in
    torch-free)
      configure_asan
      run_in "$asan" test_torch_free ;;
    tsan)
      configure_tsan
      run_in "$tsan" test_torch_free
      run_in "$tsan" test_loader ;;
    fuzz)
      configure_asan
      cmake --build "$asan" --target fuzzers
      bash "$root/fuzz/run.sh" --build "$asan" --bin "$build/bertforge" --runs 4000 --seed 1 ;;
    asan)
      configure_asan
      cmake --build "$asan"
      (cd "$asan" && ctest --output-on-failure -j "$jobs" --timeout 1500 -E '^python_interop$') ;;
    *) echo "sanitize.sh: unknown stage $stage (torch-free, tsan, fuzz, asan)" >&2; exit 2 ;;
  esac
done
