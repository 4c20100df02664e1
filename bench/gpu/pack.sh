#!/usr/bin/env bash
# Here, before a call to the GPU machine: gathers what bench/gpu/run.sh needs there into .gpu/ (ignored by git,
# named in the call's `carry`): the CUDA build of bertforge and its test executables, the two shared libraries
# that machine may lack (utf8proc; Arrow/Parquet of this build's pyarrow, xz-compressed, used only when that
# machine's pyarrow has another ABI). The test data (tests/fixtures/) travels with the working tree.
#   bash bench/gpu/pack.sh        then   run: command "bash bench/gpu/run.sh", carry [".gpu"]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$root/scripts/setup.sh"
pack="$root/.gpu"
rm -rf "$pack"
mkdir -p "$pack/bin" "$pack/lib"
cp "$build/bertforge" "$pack/bin/"
for t in test_model test_train test_dist test_infer dist_toy_train; do cp "$build/tests/$t" "$pack/bin/"; done
cp -L "$(ldd "$build/bertforge" | awk '/libutf8proc/ {print $3}')" "$pack/lib/libutf8proc.so.2"
for lib in $(ldd "$build/bertforge" | awk '/libarrow|libparquet/ {print $3}'); do
  xz -T2 -6 -c "$lib" > "$pack/lib/$(basename "$lib").xz"
done
du -sh "$pack"
