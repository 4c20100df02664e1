"""Benchmark: `bertforge prepare` (tokenize + sentence pairs + shards) against HF datasets map() doing the same
tokenize + pairs work, in the same run; MB/s of input text and peak RSS, and ours/HF ratios.

    BERTFORGE_BIN=build/bertforge python bench/prepare.py [--mb 1000] [--hf-mb 20]

The corpus is WikiText-103's wiki.valid.raw (BERTFORGE_DATA) repeated to about --mb megabytes in a temporary
folder (never committed). Ours runs on all of it with --threads 1 and 2, sentence strategy, bert-base-cased.
HF runs on the first --hf-mb megabytes only (it is much slower) and its rate is reported per MB, so it
extrapolates linearly: articles (grouped in Python) -> Dataset.map(batched) splitting sentences with a regex
and tokenizing with BertTokenizerFast (Rust, add_special_tokens=False) -> Dataset.map(batched) building
[CLS] A [SEP] B [SEP] pairs (successor or random sentence, p = 0.5) with token_type_ids, attention_mask,
next_sentence_label. HF's tokenizer uses every core (RAYON); map() runs with num_proc 1 and 2.
MB/CPU-s divides by the child's user + system CPU time (children of map() workers included only when
they are waited for), a rate the machine's other load does not change much. Peak RSS is each child's ru_maxrss; "bertforge start-up" is the binary doing nothing (LibTorch with CUDA
mapped), the floor under our figure. Prints the load average: the machine may be shared.
"""
import argparse
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

HF_PREPARE = r"""
import random, re, sys, time
import datasets
from transformers import BertTokenizerFast
corpus, vocab, num_proc = sys.argv[1], sys.argv[2], int(sys.argv[3])
tok = BertTokenizerFast(vocab, do_lower_case=False)
t0 = time.time()
articles, cur = [], []
for line in open(corpus, encoding="utf-8"):
    s = line.strip()
    if s.startswith("= ") and not s.startswith("= ="):
        if cur: articles.append("\n".join(cur))
        cur = []
    elif s and not s.startswith("= ="):
        cur.append(s)
if cur: articles.append("\n".join(cur))
ds = datasets.Dataset.from_dict({"text": articles})
split = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
def tokenize(batch):
    out = []
    for text in batch["text"]:
        sents = [s for para in text.split("\n") for s in split.split(para) if s]
        out.append(tok(sents, add_special_tokens=False)["input_ids"])
    return {"sentences": out}
ds = ds.map(tokenize, batched=True, remove_columns=["text"], num_proc=num_proc)
def pairs(batch):
    rng = random.Random(42)
    docs = batch["sentences"]
    cols = {"input_ids": [], "token_type_ids": [], "attention_mask": [], "next_sentence_label": []}
    for d, doc in enumerate(docs):
        for i in range(len(doc) - 1):
            a, label = doc[i], 0
            if rng.random() < 0.5:
                other = docs[rng.randrange(len(docs))]
                b, label = other[rng.randrange(len(other))] if other else doc[i + 1], 1
            else:
                b = doc[i + 1]
            while len(a) + len(b) > 125:
                if len(a) > len(b): a = a[:-1]
                else: b = b[:-1]
            ids = [101] + a + [102] + b + [102]
            cols["input_ids"].append(ids)
            cols["token_type_ids"].append([0] * (len(a) + 2) + [1] * (len(b) + 1))
            cols["attention_mask"].append([1] * len(ids))
            cols["next_sentence_label"].append(label)
    return cols
ds = ds.map(pairs, batched=True, batch_size=1000, remove_columns=["sentences"], num_proc=num_proc)
print(len(ds), time.time() - t0)
"""


def measure(argv, env=None):
    """(wall seconds, peak RSS MB, stdout, CPU seconds) of one child, waited for by itself."""
    start = time.time()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.time() - start
    out, err = proc.stdout.read(), proc.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(map(str, argv))}\n{err}")
    return wall, usage.ru_maxrss / 1024, out, usage.ru_utime + usage.ru_stime


def make_corpus(src, mb, path):
    block = src.read_bytes()
    with open(path, "wb") as f:
        for _ in range(max(1, round(mb * 1e6 / len(block)))):
            f.write(block)
    return path.stat().st_size


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mb", type=float, default=1000)
    p.add_argument("--hf-mb", type=float, default=20)
    args = p.parse_args()
    data = pathlib.Path(os.environ.get("BERTFORGE_DATA") or pathlib.Path(__file__).resolve().parents[1] / "tests/fixtures")
    binary = os.environ.get("BERTFORGE_BIN", str(pathlib.Path(__file__).resolve().parents[1] / "build/bertforge"))
    vocab = data / "vocab/bert-base-cased/vocab.txt"
    with tempfile.TemporaryDirectory(prefix="bf_bench_prepare_") as tmp:
        tmp = pathlib.Path(tmp)
        size = make_corpus(data / "wikitext-103-raw/wiki.valid.raw", args.mb, tmp / "big.raw")
        hf_size = make_corpus(data / "wikitext-103-raw/wiki.valid.raw", args.hf_mb, tmp / "small.raw")
        print(f"load average before: {os.getloadavg()}")
        rows = []
        wall, rss, _, cpu = measure([binary, "prepare", "--help"])
        rows.append(("bertforge start-up (prepare --help)", None, None, rss))
        ours = {}
        for threads in (1, 2):
            wall, rss, _, cpu = measure([binary, "prepare", tmp / "big.raw", "--vocab", vocab, "-o",
                                         tmp / f"out{threads}", "--threads", str(threads)])
            ours[threads] = size / 1e6 / wall
            rows.append((f"bertforge prepare, {threads} thread(s), {size / 1e6:.0f} MB", ours[threads], size / 1e6 / cpu, rss))
        env = dict(os.environ, TOKENIZERS_PARALLELISM="true")
        hf = {}
        for num_proc in (1, 2):
            wall, rss, out, cpu = measure([sys.executable, "-c", HF_PREPARE, tmp / "small.raw", vocab, str(num_proc)],
                                          env)
            hf[num_proc] = hf_size / 1e6 / wall
            rows.append((f"HF datasets map(), num_proc {num_proc}, {hf_size / 1e6:.0f} MB ({out.split()[0]} pairs)",
                         hf[num_proc], hf_size / 1e6 / cpu, rss))
        print(f"load average after: {os.getloadavg()}")
        print(f"{'run':60s} {'MB/s':>8s} {'MB/CPU-s':>9s} {'peak RSS MB':>12s}")
        for name, rate, per_cpu, rss in rows:
            fmt = lambda x: "" if x is None else f"{x:.2f}"
            print(f"{name:60s} {fmt(rate):>8s} {fmt(per_cpu):>9s} {rss:12.0f}")
        print(f"ours/HF, 1 thread vs num_proc 1: {ours[1] / hf[1]:.1f}x; 2 threads vs num_proc 2: {ours[2] / hf[2]:.1f}x")


if __name__ == "__main__":
    main()
