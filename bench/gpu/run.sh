#!/usr/bin/env bash
# On the GPU machine, in one call: the carried CUDA build (bench/gpu/pack.sh, `carry: [".gpu"]`) runs against
# that machine's LibTorch (its python3's torch, the same 2.11 wheel), then the CUDA tests, then the benchmark
# against HF Trainer. Writes under $OUT (or ./out/gpu): report.json, report.md, tests.log, bench.log.
# Each stage has its own time limit so a hang in one still leaves the others' results. On a machine without a
# usable GPU it stops after `bertforge version`, saying so.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="${OUT:-$root/out/gpu}"
mkdir -p "$out"
pack="$root/.gpu"
[[ -x "$pack/bin/bertforge" ]] || { echo "run.sh: $pack/bin/bertforge missing (run bench/gpu/pack.sh here first)"; exit 1; }
py="${PYTHON:-python3}"

# The machine's own torch libraries; Arrow from its pyarrow when the ABI matches ours, else the carried copy.
torch_lib="$("$py" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
pyarrow_dir="$("$py" -c 'import os, pyarrow; print(os.path.dirname(pyarrow.__file__))' 2>/dev/null || true)"
libs="$(mktemp -d)"
cp "$pack/lib/libutf8proc.so.2" "$libs/"
for xzlib in "$pack"/lib/*.xz; do
  name="$(basename "$xzlib" .xz)"
  [[ -n "$pyarrow_dir" && -e "$pyarrow_dir/$name" ]] || xz -dc "$xzlib" > "$libs/$name"
done
export LD_LIBRARY_PATH="$libs:${pyarrow_dir:+$pyarrow_dir:}$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export BERTFORGE_BIN="$pack/bin/bertforge" BERTFORGE_DIST_TOY="$pack/bin/dist_toy_train"
export BERTFORGE_SOURCE_DIR="$root" HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export PYTHONUNBUFFERED=1

{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv 2>&1 || true
  "$py" -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)'
  "$BERTFORGE_BIN" version; } 2>&1 | tee "$out/machine.txt"
if ! grep -q "^CUDA devices [1-9]" "$out/machine.txt"; then
  echo "run.sh: bertforge sees no CUDA device here: the CUDA tests and the GPU benchmark need one; stopping."
  exit 2
fi

# CUDA tests: the gtest cases that exercise a GPU (the rest of each suite runs in CI) and the pytest oracles.
{
  timeout 120 "$pack/bin/test_dist" --gtest_filter='Backends/OneRank.*:OneRankNccl.*' --gtest_color=no
  timeout 60 "$pack/bin/test_model" --gtest_filter='Device.*' --gtest_color=no
  timeout 240 "$py" -m pytest -q -p no:cacheprovider tests/python/test_cuda.py
} > "$out/tests.log" 2>&1
tail -n 5 "$out/tests.log"

# The benchmark: bertforge vs HF Trainer, bert-base, bf16.
timeout 420 "$py" bench/gpu/bench.py --bin "$BERTFORGE_BIN" --vocab "$root/tests/fixtures/vocab/bert-base-cased" \
  --out "$out" ${BENCH_ARGS:-} 2>&1 | tee "$out/bench.log" | grep -v '^step '
