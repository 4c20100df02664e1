"""Benchmark: BertForPreTraining forward+backward throughput, bertforge vs HF transformers on the venv's
PyTorch, same machine, same run, same thread count; and MFU against this machine's measured matmul peak.

    BERTFORGE_BIN=build/bertforge python bench/model.py [--sizes mini base] [--precisions fp32 bf16]
        [--batch 8] [--seq 128] [--threads N] [--rounds 2]

Each size's config.json comes from `bertforge forward --config SIZE --save DIR`, so both sides build the same
network. The batch is random ids without padding, 15% labelled, NSP labels, train mode (dropout on); a step is
forward, backward, zero_grad; bf16 is autocast on both sides. Per size and precision the rows switch
bertforge's techniques on one at a time (each row adds one to the row above): the sparse MLM head, the fused
dropout kernels (model/dropout.h, also inside attention), bf16 activations between the layers (bf16 only);
a last row sets attention dropout to 0 (SDPA's flash kernel; not the same model, shown for the cost of
attention dropout). All rows alternate for --rounds rounds (the machine may be shared) and each keeps its best
round. The peak is LibTorch's best 2048^3 matmul in the row's precision (bench_model --peak).
Model FLOPs per sequence (forward x3 for forward+backward), counting matmuls only:
layers * (24 T H^2 + 4 T^2 H) + 2 T H^2 (head transform) + 2 T H V (decoder), T = seq.
Rows with the sparse head use the same (dense) model FLOPs, so its "MFU" is an effective figure.

    python bench/model.py --padding [--sizes mini base] [--batch 8] [--threads N] [--rounds 2]

Padding on and off, bertforge only: the same step (forward, backward, zero_grad; sparse MLM head) on the
training loader's batches of two prepared folders, the reference's wikiTokenizedValid.hf (imported by
`bertforge prepare`: each row its real length, batches padded to their longest) and wiki.valid.raw prepared
by bertforge (the reference's sentence-pair strategy, max_seq_length 128), fp32 and bf16 autocast, each with
padding computed (--no-unpad) or skipped, in random order or group_by_length. The timed batches are the
first of an epoch, which group_by_length makes its longest, so rows compare real tokens/s (seq/s beside it);
ratios are against the padded, random-order row of the same model, data and precision; "padding" is the
share of the timed batches' positions that are padding.
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


def hf(args, config_path, bf16):
    torch.manual_seed(0)
    model = BertForPreTraining(BertConfig.from_pretrained(config_path.parent)).train()
    b, t, v = args.batch, args.seq, model.config.vocab_size
    ids = torch.randint(1000, v, (b, t))
    batch = dict(input_ids=ids, token_type_ids=(torch.arange(t) >= t // 2).long().expand(b, t),
                 attention_mask=torch.ones(b, t, dtype=torch.long),
                 labels=torch.where(torch.rand(b, t) < 0.15, ids, -100), next_sentence_label=torch.randint(0, 2, (b,)))

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(**batch).loss
        loss.backward()
        model.zero_grad()

    step()
    start = time.perf_counter()
    for _ in range(args.iters):
        step()
    return b * args.iters / (time.perf_counter() - start)


VARIANTS = [("padded", "random", ["--no-unpad"]), ("unpadded", "random", []),
            ("padded, group_by_length", "group_by_length", ["--no-unpad"]),
            ("unpadded, group_by_length", "group_by_length", [])]


def padding_table(args, tmp):
    data = pathlib.Path(os.environ.get("BERTFORGE_DATA") or ROOT / "tests" / "fixtures")
    vocab = data / "vocab" / "bert-base-cased" / "vocab.txt"
    sources = {"reference": data / "rocm-blog" / "wikiTokenizedValid.hf",
               "bertforge-prepared": data / "wikitext-103-raw" / "wiki.valid.raw"}
    variants = [VARIANTS[i] for i in args.variants]  # the first is the baseline
    folders = {}
    for name, source in sources.items():
        folders[name] = pathlib.Path(tmp) / name
        subprocess.run([BIN, "prepare", source, "--vocab", vocab, "-o", folders[name]], check=True, capture_output=True)
    rows = []
    for size in args.sizes:
        config = pathlib.Path(tmp) / size
        subprocess.run([BIN, "forward", "--config", size, "--save", config], check=True, capture_output=True)
        for name, folder in folders.items():
            if name not in args.data:
                continue
            for precision in ["fp32", "bf16"]:
                best = {}
                for _ in range(args.rounds):
                    for variant, sampling, extra in variants:
                        out = json.loads(subprocess.run(
                            [BENCH, "--config", config / "config.json", "--data", folder, "--sampling", sampling,
                             "--batch", str(args.batch), "--threads", str(args.threads), "--iters", str(args.iters),
                             *extra, *(["--bf16"] if precision == "bf16" else [])],
                            check=True, capture_output=True, text=True).stdout)
                        out["tokens_per_s"] = out["real_tokens"] / (args.iters * out["step_s"])
                        if variant not in best or out["tokens_per_s"] > best[variant]["tokens_per_s"]:
                            best[variant] = out
                base = best[variants[0][0]]["tokens_per_s"]
                for variant, _, _ in variants:
                    o = best[variant]
                    rows.append((size, name, precision, variant, o["seq_per_s"], o["tokens_per_s"],
                                 o["tokens_per_s"] / base, 1 - o["real_tokens"] / o["padded_tokens"]))
    print(f"\nbatch {args.batch}, forward+backward (sparse MLM head), best of {args.rounds} rounds x {args.iters} steps")
    print("| model | data | precision | variant | seq/s | real tokens/s | vs padded | padding |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for size, name, precision, variant, sps, tps, ratio, pad in rows:
        print(f"| {size} | {name} | {precision} | {variant} | {sps:.2f} | {tps:.0f} | {ratio:.2f} | {pad:.0%} |")


def model_flops_per_seq(c, t):
    h, v = c["hidden_size"], c["vocab_size"]
    forward = c["num_hidden_layers"] * (24 * t * h * h + 4 * t * t * h) + 2 * t * h * h + 2 * t * h * v
    return 3 * forward


# (row name, bench_model switches): each row adds one technique to the one above.
OURS = {
    "fp32": [("bertforge plain", ["--aten-dropout"]),
             ("+ sparse MLM head", ["--aten-dropout", "--sparse-mlm"]),
             ("+ fused dropout", ["--sparse-mlm"]),
             ("(attention dropout 0)", ["--sparse-mlm", "--attention-dropout", "0"])],
    "bf16": [("bertforge plain", ["--bf16", "--plain-autocast", "--aten-dropout"]),
             ("+ sparse MLM head", ["--bf16", "--plain-autocast", "--aten-dropout", "--sparse-mlm"]),
             ("+ fused dropout", ["--bf16", "--plain-autocast", "--sparse-mlm"]),
             ("+ bf16 activations", ["--bf16", "--sparse-mlm"]),
             ("(attention dropout 0)", ["--bf16", "--sparse-mlm", "--attention-dropout", "0"])],
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["mini", "base"])
    ap.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--padding", action="store_true", help="padding skipped or computed, bertforge only")
    ap.add_argument("--data", nargs="+", default=["reference", "bertforge-prepared"], help="--padding: which data")
    ap.add_argument("--variants", nargs="+", type=int, default=[0, 1, 2, 3], help="--padding: rows of VARIANTS")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"load before: {os.getloadavg()}  threads: {args.threads}  torch {torch.__version__}")
    if args.padding:
        with tempfile.TemporaryDirectory() as tmp:
            padding_table(args, tmp)
        print(f"load after: {os.getloadavg()}")
        return 0
    peak = {}
    for precision in args.precisions:
        extra = ["--dtype", "bfloat16"] if precision == "bf16" else []
        peak[precision] = json.loads(subprocess.run([BENCH, "--peak", "--threads", str(args.threads), *extra],
                                                    check=True, capture_output=True, text=True).stdout)["peak_flops"]
        print(f"{precision} matmul peak (LibTorch, 2048^3): {peak[precision] / 1e9:.1f} GFLOP/s")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            folder = pathlib.Path(tmp) / size
            subprocess.run([BIN, "forward", "--config", size, "--save", folder], check=True, capture_output=True)
            config_path = folder / "config.json"
            flops = model_flops_per_seq(json.loads(config_path.read_text()), args.seq)
            for precision in args.precisions:
                best = {"HF": 0.0, **{name: 0.0 for name, _ in OURS[precision]}}
                for _ in range(args.rounds):
                    best["HF"] = max(best["HF"], hf(args, config_path, precision == "bf16"))
                    for name, switches in OURS[precision]:
                        best[name] = max(best[name], ours(args, str(config_path), *switches))
                for name, sps in best.items():
                    rows.append((size, precision, name, sps, sps / best["HF"], sps * flops / peak[precision]))
    print(f"\nbatch {args.batch} x seq {args.seq}, forward+backward, best of {args.rounds} rounds x {args.iters} steps")
    print(f"{'model':6} {'prec':5} {'impl':24} {'seq/s':>8} {'vs HF':>7} {'MFU':>7}")
    for size, precision, name, sps, ratio, mfu in rows:
        print(f"{size:6} {precision:5} {name:24} {sps:8.2f} {ratio:7.2f} {mfu:7.1%}")
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    sys.exit(main())
