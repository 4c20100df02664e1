"""Benchmark: tokenize throughput of bertforge beside HF tokenizers (Rust) on the same input in the same run.

    python bench/tokenizer.py [--mb 20] [--vocab bert-base-cased|bert-base-uncased] [--build build]

The input is WikiText-103's wiki.valid.raw (BERTFORGE_DATA) repeated to about --mb megabytes. Rows:
- bertforge in-process (build/bench/bench_tokenizer: lines in memory, Tokenizer::encode_into, no I/O), on 1
  thread and on every hardware thread;
- bertforge CLI end to end (`bertforge tokenize FILE -o /dev/null`: reading, writing ids, process start-up);
- HF BertTokenizerFast's Rust encode_batch on the same lines (add_special_tokens=False), on 1 thread
  (TOKENIZERS_PARALLELISM=false) and on every thread (RAYON_NUM_THREADS), each in its own process.
Ratios are ours/HF at the same thread count (per core). Prints the load average: the machine may be shared.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = pathlib.Path(os.environ.get("BERTFORGE_DATA") or ROOT / "tests" / "fixtures")

HF = """
import sys, time
from transformers import BertTokenizerFast
vocab, path, lower = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
hf = BertTokenizerFast(vocab, do_lower_case=lower)
lines = open(path, encoding="utf-8").read().split("\\n")[:-1]
best = 1e30
for _ in range(2):
    t = time.perf_counter()
    hf._tokenizer.encode_batch(lines, add_special_tokens=False)
    best = min(best, time.perf_counter() - t)
print(best)
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=20)
    ap.add_argument("--vocab", default="bert-base-cased", choices=["bert-base-cased", "bert-base-uncased"])
    ap.add_argument("--build", default=str(ROOT / "build"))
    args = ap.parse_args()
    vocab = DATA / "vocab" / args.vocab / "vocab.txt"
    lower = args.vocab.endswith("uncased")
    threads = os.cpu_count()
    raw = (DATA / "wikitext-103-raw" / "wiki.valid.raw").read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "input.txt"
        path.write_bytes(raw * max(1, round(args.mb * 1e6 / len(raw))))
        mb = path.stat().st_size / 1e6
        rows = {}
        for t in sorted({1, threads}):
            out = subprocess.run([f"{args.build}/bench/bench_tokenizer", vocab, path, "--threads", str(t), "--repeat", "2"]
                                 + ["--lower-case"] * lower, check=True, capture_output=True, text=True).stdout
            rows[("bertforge (in-process)", t)] = json.loads(out)["mb_per_s"]
            env = dict(os.environ, TOKENIZERS_PARALLELISM="false" if t == 1 else "true", RAYON_NUM_THREADS=str(t))
            seconds = float(subprocess.run([sys.executable, "-c", HF, vocab, path, "1" if lower else "0"], env=env,
                                           check=True, capture_output=True, text=True).stdout)
            rows[("HF tokenizers encode_batch", t)] = mb / seconds
        start = time.perf_counter()
        subprocess.run([f"{args.build}/bertforge", "--threads", str(threads), "tokenize", "--vocab", vocab,
                        "--lower-case" if lower else "--no-lower-case", path, "-o", os.devnull], check=True,
                       stderr=subprocess.DEVNULL)
        rows[("bertforge tokenize CLI (end to end)", threads)] = mb / (time.perf_counter() - start)
    print(f"\ntokenize {args.vocab}, {mb:.1f} MB of wiki.valid.raw; load average {os.getloadavg()}\n")
    print("| implementation | threads | MB/s | ours/HF at same threads |\n|---|---|---|---|")
    for (name, t), rate in rows.items():
        hf = rows[("HF tokenizers encode_batch", t)]
        ratio = "" if name.startswith("HF") else f"{rate / hf:.1f}x"
        print(f"| {name} | {t} | {rate:.2f} | {ratio} |")


if __name__ == "__main__":
    main()
