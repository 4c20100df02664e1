#!/usr/bin/env bash
# Install what is missing, build, and run every test: CTest (C++ and one pytest session for the HF interop).
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/setup.sh"
cd "$build"
ctest --output-on-failure -j "$(nproc)" --timeout 1500 "$@"
