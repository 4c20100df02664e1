#!/usr/bin/env bash
# Install what is missing, build, and run every test: CTest (C++ and one pytest session for the HF interop),
# then the LibTorch-free tests under ASan + UBSan, those and the loader's under TSan, and each fuzz target
# for 4000 inputs (scripts/sanitize.sh torch-free tsan fuzz). Arguments are a CTest selection (for example -R Loader): with them
# only the plain build's tests run.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/setup.sh"
(cd "$build" && ctest --output-on-failure -j "$(nproc)" --timeout 1500 "$@")
if (($# == 0)); then
  bash "$root/scripts/sanitize.sh" torch-free tsan fuzz
fi
