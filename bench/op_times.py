"""Where a step's time goes: sums a Chrome trace of LibTorch's profiler (`bench_model --profile TRACE.json`) by
op, counting each op's self time (its duration less that of the ops it called), largest first.

    python bench/op_times.py TRACE.json [--steps N] [--top 25]

--steps divides the totals by the timed iterations the trace holds (bench_model's --iters), giving ms per step.
"""
import argparse
import collections
import json


def self_times(events):
    """{op name: summed self time in microseconds} over complete ("X") events, nested per thread by time."""
    totals = collections.Counter()
    by_thread = collections.defaultdict(list)
    for e in events:
        if e.get("ph") == "X":
            by_thread[(e.get("pid"), e.get("tid"))].append(e)
    for spans in by_thread.values():
        spans.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack = []  # [end, name, self time so far]
        for e in spans:
            while stack and e["ts"] >= stack[-1][0]:
                _, name, own = stack.pop()
                totals[name] += own
            if stack:
                stack[-1][2] -= e["dur"]
            stack.append([e["ts"] + e["dur"], e["name"], e["dur"]])
        for _, name, own in stack:
            totals[name] += own
    return totals


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trace")
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("--top", type=int, default=25)
    a = ap.parse_args()
    totals = self_times(json.load(open(a.trace)))
    whole = sum(totals.values())
    print(f"{'op':<48} {'ms/step':>9} {'share':>7}")
    for name, us in totals.most_common(a.top):
        print(f"{name:<48} {us / 1e3 / a.steps:>9.1f} {100 * us / whole:>6.1f}%")
    print(f"{'all ops':<48} {whole / 1e3 / a.steps:>9.1f}")


if __name__ == "__main__":
    main()
