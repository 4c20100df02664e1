#!/usr/bin/env bash
# The main job: install what is missing, build the bertforge executable (the tests and benchmarks are
# scripts/test.sh's), and run the end-to-end demo on the embedded default corpus.
set -euo pipefail
BERTFORGE_TARGETS="${BERTFORGE_TARGETS:-bertforge}" source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/setup.sh"
exec bash "$root/scripts/demo.sh"
