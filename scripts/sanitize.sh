#!/usr/bin/env bash
# The sanitizer builds, with clang beside the plain build (LibTorch's CPU libraries; LibTorch and Arrow are
# not instrumented, tests/sanitizers/ holds the few suppressions their internals need):
#   asan        build-asan, ASan + UBSan: every C++ test (the Python session excepted).
#   tsan        build-tsan, TSan: the tests that run the threads bertforge starts, the loader's prefetch thread
#               (Loader.*) and the parallel tokenizer (TokenizeStream.*).
#   torch-free  test_torch_free (tests/sanitizers/: the tests of the LibTorch-free files, the tokenizer and the
#               parsers) in build-asan under ASan + UBSan, then in build-tsan under TSan; minutes, not hours.
#   fuzz        each fuzz target in build-asan for 4000 inputs from a fixed seed, the same on every machine
#               (fuzz/run.sh --seconds N hunts longer).
# usage: scripts/sanitize.sh [asan] [tsan] [torch-free] [fuzz]   (default asan and tsan; scripts/test.sh runs
#        torch-free and fuzz after the plain tests)
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/setup.sh"
stages=("$@")
((${#stages[@]})) || stages=(asan tsan)
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
torch_free_in() {
  cmake --build "$1" --target test_torch_free
  echo "sanitize.sh: test_torch_free in $1"
  "$1/tests/sanitizers/test_torch_free" --gtest_brief=1
}
for stage in "${stages[@]}"; do
  case "$stage" in
    torch-free)
      configure_asan
      torch_free_in "$asan"
      configure_tsan
      torch_free_in "$tsan" ;;
    fuzz)
      configure_asan
      cmake --build "$asan" --target fuzzers
      bash "$root/fuzz/run.sh" --build "$asan" --bin "$build/bertforge" --runs 4000 --seed 1 ;;
    asan)
      configure_asan
      cmake --build "$asan"
      (cd "$asan" && ctest --output-on-failure -j "$jobs" --timeout 1500 -E '^python_interop$') ;;
    tsan)
      configure_tsan
      cmake --build "$tsan" --target test_data test_text
      (cd "$tsan" && ctest --output-on-failure -j "$jobs" --timeout 1500 -R '^(Loader|TokenizeStream)\.') ;;
    *) echo "sanitize.sh: unknown stage $stage (asan, tsan, torch-free, fuzz)" >&2; exit 2 ;;
  esac
done
