"""Benchmark: BertForPreTraining forward+backward throughput, bertforge vs HF transformers on the venv's
PyTorch, same machine, same run, same thread count; and MFU against this machine's measured matmul peak.

    BERTFORGE_BIN=build/bertforge python bench/model.py [--sizes mini base] [--batch 8] [--seq 128]
        [--threads N] [--rounds 2]

Each size's config.json comes from `bertforge forward --config SIZE --save DIR`, so both sides build the same
network. The batch is random ids without padding, 15% labelled, NSP labels, train mode (dropout on); a step is
forward, backward, zero_grad. Ours and HF alternate for --rounds rounds (the machine may be shared) and each
side's best round is kept. The peak is LibTorch's best 2048^3 fp32 matmul (bench_model --peak).
Model FLOPs per sequence (forward x3 for forward+backward), counting matmuls only:
layers * (24 T H^2 + 4 T^2 H) + 2 T H^2 (head transform) + 2 T H V (decoder), T = seq.
The sparse-head row uses the same (dense) model FLOPs, so its "MFU" is an effective figure.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import torch
from transformers import BertConfig, BertForPreTraining

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = pathlib.Path(os.environ.get("BERTFORGE_BUILD", ROOT / "build"))
BIN = os.environ.get("BERTFORGE_BIN", str(BUILD / "bertforge"))
BENCH = str(BUILD / "bench" / "bench_model")


def ours(args, config_path, *extra):
    out = subprocess.run([BENCH, "--config", config_path, "--batch", str(args.batch), "--seq", str(args.seq),
                          "--threads", str(args.threads), "--iters", str(args.iters), *extra],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["seq_per_s"]


def hf(args, config_path):
    torch.manual_seed(0)
    model = BertForPreTraining(BertConfig.from_pretrained(config_path.parent)).train()
    b, t, v = args.batch, args.seq, model.config.vocab_size
    ids = torch.randint(1000, v, (b, t))
    batch = dict(input_ids=ids, token_type_ids=(torch.arange(t) >= t // 2).long().expand(b, t),
                 attention_mask=torch.ones(b, t, dtype=torch.long),
                 labels=torch.where(torch.rand(b, t) < 0.15, ids, -100), next_sentence_label=torch.randint(0, 2, (b,)))

    def step():
        model(**batch).loss.backward()
        model.zero_grad()

    step()
    start = time.perf_counter()
    for _ in range(args.iters):
        step()
    return b * args.iters / (time.perf_counter() - start)


def model_flops_per_seq(c, t):
    h, v = c["hidden_size"], c["vocab_size"]
    forward = c["num_hidden_layers"] * (24 * t * h * h + 4 * t * t * h) + 2 * t * h * h + 2 * t * h * v
    return 3 * forward


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["mini", "base"])
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--iters", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"load before: {os.getloadavg()}  threads: {args.threads}  torch {torch.__version__}")
    peak = json.loads(subprocess.run([BENCH, "--peak", "--threads", str(args.threads)], check=True,
                                     capture_output=True, text=True).stdout)["peak_flops"]
    print(f"fp32 matmul peak (LibTorch, 2048^3): {peak / 1e9:.1f} GFLOP/s")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            folder = pathlib.Path(tmp) / size
            subprocess.run([BIN, "forward", "--config", size, "--save", folder], check=True, capture_output=True)
            config_path = folder / "config.json"
            best = {"bertforge": 0.0, "HF": 0.0, "bertforge sparse MLM": 0.0}
            for _ in range(args.rounds):
                best["bertforge"] = max(best["bertforge"], ours(args, str(config_path)))
                best["HF"] = max(best["HF"], hf(args, config_path))
                best["bertforge sparse MLM"] = max(best["bertforge sparse MLM"],
                                                   ours(args, str(config_path), "--sparse-mlm"))
            flops = model_flops_per_seq(json.loads(config_path.read_text()), args.seq)
            for name, sps in best.items():
                rows.append((size, name, sps, sps / best["HF"], sps * flops / peak))
    print(f"\nbatch {args.batch} x seq {args.seq}, forward+backward, best of {args.rounds} rounds x {args.iters} steps")
    print(f"{'model':6} {'impl':22} {'seq/s':>8} {'vs HF':>7} {'MFU':>7}")
    for size, name, sps, ratio, mfu in rows:
        print(f"{size:6} {name:22} {sps:8.2f} {ratio:7.2f} {mfu:7.1%}")
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    sys.exit(main())
