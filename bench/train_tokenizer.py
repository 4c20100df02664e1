"""Benchmark: train a WordPiece vocabulary with bertforge and with HF tokenizers' WordPieceTrainer on the same
corpus in the same run; wall seconds and peak RSS of each, and ours/HF ratios.

    BERTFORGE_BIN=build/bertforge python bench/train_tokenizer.py [--mb 100] [--vocab-size 30000] [--threads N]

The corpus is WikiText-103's wiki.valid.raw (BERTFORGE_DATA) repeated to about --mb megabytes, written to a
temporary folder. Both sides use BERT's normalizer and pre-tokenizer (cased), min_frequency 2,
limit_alphabet 1000, the five BERT special tokens, and the same number of threads (RAYON_NUM_THREADS for HF).
Peak RSS is the child's ru_maxrss. The bertforge binary maps LibTorch (with CUDA) at start-up, which alone
costs hundreds of MB of RSS before any work; the row "bertforge start-up" (`train-tokenizer --help`) shows
that floor so the trainer's own memory can be read off. Prints the load average: the machine may be shared.
"""
import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]

HF_TRAIN = """
import sys
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
out, vocab_size, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
tok.normalizer = normalizers.BertNormalizer(lowercase=False)
tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=2, limit_alphabet=1000,
                                    special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], show_progress=False)
tok.train(files, trainer)
vocab = tok.get_vocab()
with open(out, "w", encoding="utf-8") as f:
    f.writelines(t + "\\n" for t, _ in sorted(vocab.items(), key=lambda kv: kv[1]))
"""

# Runs argv in a child and reports (wall seconds, the child's peak RSS in MB) from a wrapper process, so that
# each measurement sees only its own child.
MEASURE = """
import resource, subprocess, sys, time
t = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def measure(argv, env=None):
    out = subprocess.run([sys.executable, "-c", MEASURE, *map(str, argv)], check=True, capture_output=True,
                         text=True, env=env).stdout.split()
    return float(out[0]), float(out[1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=100)
    ap.add_argument("--vocab-size", type=int, default=30000)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    data = pathlib.Path(os.environ.get("BERTFORGE_DATA") or ROOT / "tests" / "fixtures")
    bf = os.environ.get("BERTFORGE_BIN", str(ROOT / "build" / "bertforge"))
    raw = (data / "wikitext-103-raw" / "wiki.valid.raw").read_bytes()
    copies = max(1, round(args.mb * 1e6 / len(raw)))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        corpus = tmp / "corpus.txt"
        with open(corpus, "wb") as f:
            for _ in range(copies):
                f.write(raw)
        mb = corpus.stat().st_size / 1e6
        print(f"corpus: wiki.valid.raw x{copies} = {mb:.1f} MB; vocab {args.vocab_size}; threads {args.threads}; "
              f"load {os.getloadavg()[0]:.2f}", flush=True)
        start_s, start_mb = measure([bf, "train-tokenizer", "--help"])
        ours_s, ours_mb = measure([bf, "--threads", args.threads, "train-tokenizer", "--vocab-size", args.vocab_size,
                                   "-o", tmp / "ours", corpus], env={**os.environ, "TERM": "dumb"})
        env = {**os.environ, "RAYON_NUM_THREADS": str(args.threads), "TOKENIZERS_PARALLELISM": "true"}
        hf_s, hf_mb = measure([sys.executable, "-c", HF_TRAIN, tmp / "hf.txt", args.vocab_size, corpus], env=env)
        ours = (tmp / "ours" / "vocab.txt").read_text(encoding="utf-8").splitlines()
        hf = (tmp / "hf.txt").read_text(encoding="utf-8").splitlines()
    print(f"{'':12}{'seconds':>10}{'MB/s':>10}{'peak RSS MB':>14}")
    print(f"{'bertforge':12}{ours_s:10.2f}{mb / ours_s:10.1f}{ours_mb:14.0f}")
    print(f"{'  start-up':12}{start_s:10.2f}{'':10}{start_mb:14.0f}")
    print(f"{'HF':12}{hf_s:10.2f}{mb / hf_s:10.1f}{hf_mb:14.0f}")
    print(f"{'ours/HF':12}{ours_s / hf_s:10.2f}{hf_s / ours_s:10.2f}{ours_mb / hf_mb:14.2f}")
    print(f"bertforge above its start-up: {ours_s - start_s:.2f} s, {ours_mb - start_mb:.0f} MB")
    print(f"vocabulary overlap: {len(set(ours) & set(hf)) / len(hf):.4f} ({len(ours)} vs {len(hf)} tokens); "
          f"load after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
