#!/usr/bin/env bash
# Runs fuzz targets for a set time each, one after another, from a corpus that grows across runs.
# usage: fuzz/run.sh [--build DIR] [--seconds N | --runs N --seed S] [--work DIR] [TARGET...]
#   --build    the build holding fuzz/fuzz_<target> (configured with BERTFORGE_FUZZ=ON; default ./build-asan)
#   --seconds  how long each target runs (default 60)
#   --runs     run each target for N inputs from random seed S instead: the same inputs on every machine, as CI
#              needs (a time limit explores more on a faster machine, so its findings differ between runs)
#   --work     corpora and crash inputs, one folder per target (default BUILD/fuzz/work)
#   --bin      the bertforge binary that makes the binary seeds (default BUILD/bertforge, else ./build/bertforge)
#   TARGET     names as in fuzz/CMakeLists.txt (default: every target built)
# A corpus folder is seeded by fuzz/seeds.sh when empty. A crash leaves its input in WORK/TARGET/crashes/,
# its report in WORK/TARGET/log, is summed up at the end and makes the script exit non-zero; replay it with
# `BUILD/fuzz/fuzz_TARGET FILE`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="$here/../build-asan" seconds=60 runs="" seed="" work="" bin=""
targets=()
while (($#)); do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --bin) bin="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}"; exit 0 ;;
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
limit=(-max_total_time="$seconds") what="${seconds}s"
[[ -n "$runs" ]] && { limit=(-runs="$runs" -seed="${seed:-1}"); what="$runs inputs from seed ${seed:-1}"; }
crashed=()
for t in "${targets[@]}"; do
  corpus="$work/$t/corpus" crashes="$work/$t/crashes" log="$work/$t/log"
  mkdir -p "$corpus" "$crashes"
  [[ -n "$(ls -A "$corpus")" ]] || bash "$here/seeds.sh" "$t" "$corpus" "$bin"
  dict=()
  [[ -f "$here/$t.dict" ]] && dict=(-dict="$here/$t.dict")
  echo "fuzz/run.sh: $t for $what, corpus $corpus ($(ls "$corpus" | wc -l) inputs)"
  if (cd "$work/$t" && "$build/fuzz/fuzz_$t" "$corpus" "${dict[@]}" "${limit[@]}" -timeout=30 \
        -rss_limit_mb=2048 -print_final_stats=1 -print_funcs=0 -artifact_prefix="$crashes/" >"$log" 2>&1); then
    awk '/^Done/ {r = $2; s = $5} /new_units_added/ {n = $2} /peak_rss_mb/ {m = $2}
         END {printf "  %s runs in %s s, %s new inputs, peak RSS %s MB\n", r, s, n, m}' "$log"
  else
    crashed+=("$t")
  fi
done
# The report of each crash comes last, where a truncated CI log still shows it: the sanitizer's or libFuzzer's
# error line, the first frames of its stack and the input that caused it.
for t in "${crashed[@]}"; do
  log="$work/$t/log"
  echo "fuzz/run.sh: $t FOUND A CRASH: $work/$t/crashes/$(ls -t "$work/$t/crashes" | head -1)" >&2
  grep -m1 -E '^(fuzz finding:|==[0-9]+==ERROR|.*runtime error:|==[0-9]+== ERROR: libFuzzer)' "$log" >&2 ||
    tail -n 5 "$log" >&2
  grep -E '^ +#[0-9]+ ' "$log" | head -n 12 >&2
done
((${#crashed[@]} == 0))
