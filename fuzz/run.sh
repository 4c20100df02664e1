#!/usr/bin/env bash
# Runs fuzz targets for a set time each, one after another, from a corpus that grows across runs.
# usage: fuzz/run.sh [--build DIR] [--seconds N] [--work DIR] [TARGET...]
#   --build    the build holding fuzz/fuzz_<target> (configured with BERTFORGE_FUZZ=ON; default ./build-asan)
#   --seconds  how long each target runs (default 60)
#   --work     corpora and crash inputs, one folder per target (default BUILD/fuzz/work)
#   --bin      the bertforge binary that makes the binary seeds (default BUILD/bertforge, else ./build/bertforge)
#   TARGET     names as in fuzz/CMakeLists.txt (default: every target built)
# A corpus folder is seeded by fuzz/seeds.sh when empty. A crash leaves its input in WORK/TARGET/crashes/
# and makes the script exit non-zero; replay it with `BUILD/fuzz/fuzz_TARGET FILE`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="$here/../build-asan" seconds=60 work="" bin=""
targets=()
while (($#)); do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --bin) bin="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
build="$(cd "$build" && pwd)"
work="${work:-$build/fuzz/work}"
[[ -n "$bin" ]] || { bin="$build/bertforge"; [[ -x "$bin" ]] || bin="$here/../build/bertforge"; }
if ((${#targets[@]} == 0)); then
  for f in "$build"/fuzz/fuzz_*; do [[ -x "$f" ]] && targets+=("${f##*/fuzz_}"); done
fi
if ((${#targets[@]} == 0)); then
  echo "fuzz/run.sh: no fuzz targets in $build/fuzz (configure with -DBERTFORGE_FUZZ=ON)" >&2
  exit 2
fi
# LibTorch's and Arrow's own allocations are outside our code: leaks are not checked (see tests/sanitizers/).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
for t in "${targets[@]}"; do
  corpus="$work/$t/corpus" crashes="$work/$t/crashes"
  mkdir -p "$corpus" "$crashes"
  [[ -n "$(ls -A "$corpus")" ]] || bash "$here/seeds.sh" "$t" "$corpus" "$bin"
  dict=()
  [[ -f "$here/$t.dict" ]] && dict=(-dict="$here/$t.dict")
  echo "fuzz/run.sh: $t for ${seconds}s, corpus $corpus ($(ls "$corpus" | wc -l) inputs)"
  # Progress lines (all but the final DONE line with coverage and corpus size), new-function lists, the
  # parsers' warnings and the recommended dictionary are left out.
  if ! (cd "$work/$t" && "$build/fuzz/fuzz_$t" "$corpus" "${dict[@]}" -max_total_time="$seconds" -timeout=30 \
          -rss_limit_mb=2048 -print_final_stats=1 -print_funcs=0 -artifact_prefix="$crashes/" 2>&1 |
        grep -v -E -e '^#[0-9]+ +(NEW|REDUCE|pulse|INITED|RELOAD)' -e '^bertforge: warning' -e '^"' -e '^###' \
          -e '^INFO:' -e '^MERGE'); then
    echo "fuzz/run.sh: $t FOUND A CRASH: $(ls -t "$crashes" | head -1)" >&2
    status=1
  fi
done
exit "$status"
