#!/usr/bin/env bash
# Runs the safetensors fuzzer for SECONDS from a seed corpus (one valid file) and the header dictionary.
# usage: fuzz/run.sh FUZZER WORKDIR SECONDS
set -euo pipefail
fuzzer="$1" work="$2" seconds="$3"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$work/corpus"
header='{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}   '
printf '\x58\x00\x00\x00\x00\x00\x00\x00%s\x00\x00\x80\x3f\x00\x00\x00\x40' "$header" > "$work/corpus/seed"
cd "$work"
exec "$fuzzer" corpus -dict="$here/safetensors.dict" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=1024
