#!/usr/bin/env bash
# The main job: install what is missing, build, and run the end-to-end demo on the embedded default corpus.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/setup.sh"
exec bash "$root/scripts/demo.sh"
