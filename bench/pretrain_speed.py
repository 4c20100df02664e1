"""Pre-training speed, bertforge vs HF Trainer, in one run on one machine: the LibTorch matmul peak of each
dtype, then bert-mini and bert-base trained on the reference's data by `bertforge pretrain` and by HF Trainer,
fp32 and bf16 autocast, each side with its default optimizer (adamw_torch_fused: torch's fused AdamW kernel)
and the same data, batch, learning rate, schedule, seed and threads.

    BERTFORGE_BIN=build/bertforge python bench/pretrain_speed.py [--models mini base] [--precisions fp32 bf16]
        [--warmup 3] [--steps 12] [--repeats 1] [--threads 2] [--out bench/results]

Data: tests/fixtures/rocm-blog/wikiTokenizedValid.hf (BERTFORGE_DATA), batch 8 x 128, as bench/pretrain.py
prepares it (HF's collator keeps the rows' padding to 128; bertforge's import drops it and pads each batch to
its longest row). Each run takes --warmup steps untimed, then --steps timed steps; a step's end is stamped by
HF's on_step_end callback and, for bertforge, when its per-step progress line arrives (logging_steps 1).
Reported per run: seq/s, tokens/s (real = attention mask, padded = what was computed), MFU = 6 x
non-embedding parameters x tokens / time / measured peak of the dtype (HF's floating_point_ops count,
padding included, so a side that skips padding is not credited for it; "real MFU" counts real tokens only),
peak RSS of the process, and the loss of the last step and the mean over the timed steps (different
initial weights and data order: same distribution, not the same numbers). Records the host (CPU model, family,
the flags that decide the kernels, ATen's capability) and writes <out>/<date>-cpu-<host kind>-pretrain.json and
.md (kinds: amx, avx512-bf16, avx512, avx2: the README keeps the latest table of each), prints the Markdown. The machine may be shared: the load average is recorded; quote ratios. With
--repeats N each (model, precision) runs N times, the two sides alternating, and each side reports its run of
median speed (all N speeds are listed): on a noisy machine a neighbour's burst then slows both sides, not one.
"""
import argparse
import datetime
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import time

from pretrain import DATA, HF_RUN, MINI, ROOT, host, prepare_data, provenance

BASE = dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072, vocab_size=28996)
MODELS = {"mini": MINI, "base": BASE}
PEAK_SHAPES = [(1024, 768, 3072), (1024, 3072, 768), (1024, 768, 768), (2048, 2048, 2048)]
STEP_LINE = re.compile(r"^step (\d+)/\d+ .* (\d+) tok/s")


def run_measured(cmd, on_line=None):
    """Runs cmd; returns (stderr lines, peak RSS in MiB) and calls on_line(line, time) as stderr lines arrive."""
    proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stderr:
        if on_line:
            on_line(line, time.perf_counter())
        lines.append(line)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{''.join(lines[-20:])}")
    return lines, usage.ru_maxrss / 1024


def matmul_peaks(threads, precisions):
    bench = pathlib.Path(os.environ.get("BERTFORGE_BUILD", ROOT / "build")) / "bench" / "bench_model"
    peaks = {}
    # fp32 through both GEMM libraries bertforge's linear layers can use (model/linear.h): the peak is the better.
    # Only the precisions asked for: bf16's peak takes minutes where bf16 GEMMs are scalar code (AVX2 hosts).
    for dtype, name, gemms in [("float", "fp32", ["aten", "onednn"]), ("bfloat16", "bf16", ["aten"])]:
        if name not in precisions:
            continue
        best = {}
        for m, k, n in PEAK_SHAPES:
            for gemm in gemms:
                out = subprocess.run([bench, "--peak", "--threads", str(threads), "--dtype", dtype, "--gemm", gemm,
                                      "--mkn", f"{m},{k},{n}"], check=True, capture_output=True, text=True).stdout
                best[f"[{m}x{k}]x[{k}x{n}] {gemm}"] = json.loads(out)["peak_flops"]
        peaks[name] = {"peak_flops": max(best.values()), "by_shape": best}
    return peaks


def peaks_text(peaks):
    """The report's sentence on the measured peaks."""
    shapes = next(iter(peaks.values()))["by_shape"]
    return (f"Matmul peak (best of {', '.join(shapes)}): " +
            ", ".join(f"{name} {p['peak_flops'] / 1e12:.3f}" for name, p in peaks.items()) + " TFLOP/s")


def non_embedding_params(cfg, architecture="BertForPreTraining"):
    """As HF's floating_point_ops counts them: num_parameters(exclude_embeddings=True) of the transformers
    class named (for BertForPreTraining the MLM decoder's weight is tied to the word embeddings and not counted;
    its bias is)."""
    import torch
    import transformers
    with torch.device("meta"):
        model = getattr(transformers, architecture)(transformers.BertConfig(**cfg))
    return model.num_parameters(exclude_embeddings=True)


def summarise(times, real, padded, losses, warmup, rss, flops_per_token, peak, batch=8):
    """times[s] = end of step s+1; real/padded tokens per step; losses per step; batch sequences per step."""
    timed = slice(warmup, len(times))
    seconds = times[-1] - times[warmup - 1]
    steps = len(times) - warmup
    real_tokens, padded_tokens = sum(real[timed]), sum(padded[timed])
    return {"seq_per_s": batch * steps / seconds, "real_tokens_per_s": real_tokens / seconds,
            "padded_tokens_per_s": padded_tokens / seconds,
            "mfu": flops_per_token * padded_tokens / seconds / peak,
            "real_mfu": flops_per_token * real_tokens / seconds / peak,
            "peak_rss_mib": rss, "loss_last": losses[-1], "loss_mean_timed": statistics.mean(losses[timed]),
            "timed_steps": steps, "timed_s": seconds}


def run_bertforge(bf, a, cfg_path, data, precision, out, flops_per_token, peak):
    stamps = {}

    def on_line(line, t):
        m = STEP_LINE.match(line)
        if m:
            stamps[int(m.group(1))] = (t, int(m.group(2)))

    total = a.warmup + a.steps
    cmd = [bf, "pretrain", "--threads", a.threads, "--device", "cpu", "--model", cfg_path, "--train_data", data,
           "--output_dir", out, "--overwrite_output_dir", "--per_device_train_batch_size", "8", "--learning_rate",
           a.lr, "--weight_decay", "0", "--max_steps", total, "--lr_scheduler_type", "linear", "--logging_steps", "1",
           "--save_strategy", "no", "--seed", "42"] + (["--bf16"] if precision == "bf16" else [])
    lines, rss = run_measured(cmd, on_line)
    optim = next((m.group(1) for m in map(re.compile(r"optim (\S+)").search, lines) if m), "?")
    state = json.loads((out / "trainer_state.json").read_text())
    losses = [e["loss"] for e in state["log_history"] if "loss" in e]
    times = [stamps[s][0] for s in range(1, total + 1)]
    # Real tokens per step from the line's tok/s over that step's interval; padded ones (computed) from
    # total_flos, which counts every position of every batch: the run's mean per step.
    real = [stamps[s][1] * (times[s - 1] - times[s - 2]) if s > 1 else 0 for s in range(1, total + 1)]
    padded = [state["total_flos"] / flops_per_token / total] * total
    return {**summarise(times, real, padded, losses, a.warmup, rss, flops_per_token, peak), "optim": optim}


def run_hf(a, model, vocab, data, precision, out, flops_per_token, peak):
    out.mkdir(parents=True, exist_ok=True)
    cfg = dict(threads=a.threads, model={**MODELS[model], "max_position_embeddings": 512}, vocab=str(vocab),
               out=str(out), lr=a.lr, steps=a.warmup + a.steps, log=1, optim="adamw_torch_fused",
               bf16=precision == "bf16", train=str(data))
    _, rss = run_measured([sys.executable, "-c", HF_RUN, json.dumps(cfg)])
    steps = json.loads((out / "step_times.json").read_text())
    losses = [e["loss"] for e in json.loads((out / "log_history.json").read_text()) if "loss" in e]
    real, padded = zip(*steps["tokens"])
    return {**summarise(steps["times"], list(real), list(padded), losses, a.warmup, rss, flops_per_token, peak),
            "optim": cfg["optim"]}


def median_run(runs):
    """The run of median seq/s (the lower middle one of an even count), with every run's seq/s beside it."""
    ranked = sorted(runs, key=lambda r: r["seq_per_s"])
    return {**ranked[(len(ranked) - 1) // 2], "seq_per_s_runs": [r["seq_per_s"] for r in runs]}


def markdown(report):
    r = report
    h = r["host"]
    out = [f"### CPU pre-training speed on an {h['kind']} host, {r['date']} ({r['machine']})", "",
           f"Host: {h['model']}, family {h['family']} model {h['model_number']}, ATen {h['aten']}, bertforge's fp32 "
           f"linear layers on {h['bertforge_fp32_gemm']}, flags "
           f"{' '.join(h['flags']) or 'none of avx2 avx512f avx512_bf16 amx_bf16'}.",
           "",
           f"bertforge {r['bertforge_commit']}, torch {r['torch']}, transformers {r['transformers']}, "
           f"{r['threads']} threads; batch 8 x 128 of the reference's wikiTokenizedValid.hf; {r['warmup']} warm-up + "
           f"{r['steps']} timed steps, {r['repeats']} run(s) per side alternating, the median shown; optimizer: "
           f"each side's default ({r['rows'][0]['bertforge']['optim']} / "
           f"{r['rows'][0]['hf']['optim']}). {peaks_text(r['peaks'])}. "
           f"MFU = 6 x non-embedding parameters x tokens (padding included, HF's floating_point_ops) / time / peak of "
           f"the dtype; real MFU counts real tokens only. Load average {r['load_before']:.1f} before, "
           f"{r['load_after']:.1f} after (shared machine).", ""]
    return "\n".join(out + table(r["rows"])) + "\n"


def table(rows):
    """The Markdown table of rows ({model, precision, bertforge, hf}), ratios against HF in the same row."""
    out = ["| model | precision | side | seq/s | runs | ratio | real tok/s | padded tok/s | MFU | real MFU | "
           "peak RSS MiB | loss last / mean timed |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        for side in ["bertforge", "hf"]:
            x = row[side]
            ratio = x["seq_per_s"] / row["hf"]["seq_per_s"]
            runs = " ".join(f"{v:.2f}" for v in x["seq_per_s_runs"])
            out.append(f"| {row['model']} | {row['precision']} | {'bertforge' if side == 'bertforge' else 'HF Trainer'} | "
                       f"{x['seq_per_s']:.2f} | {runs} | {ratio:.2f}x | {x['real_tokens_per_s']:.0f} | "
                       f"{x['padded_tokens_per_s']:.0f} | {x['mfu']:.1%} | {x['real_mfu']:.1%} | "
                       f"{x['peak_rss_mib']:.0f} | {x['loss_last']:.3f} / {x['loss_mean_timed']:.3f} |")
    return out


def write_report(report, md, out, date, what, work):
    """<out>/<date>-cpu-<host kind>-<what>.json and .md, and the Markdown printed."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"{date.strftime('%Y-%m-%d')}-cpu-{report['host']['kind']}-{what}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
    stem.with_suffix(".md").write_text(md)
    print("\n" + md + f"\nwrote {stem}.json and .md; run outputs in {work}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["mini", "base"], choices=list(MODELS))
    ap.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--repeats", type=int, default=1, help="runs per side, alternating; each side reports its median")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--keep", help="folder to keep run outputs in (default: a temporary one)")
    a = ap.parse_args()
    if a.warmup < 2:
        ap.error("--warmup must be at least 2 (the first timed interval needs a stamped step before it)")
    bf = os.environ.get("BERTFORGE_BIN", str(ROOT / "build" / "bertforge"))
    work = pathlib.Path(a.keep or tempfile.mkdtemp(prefix="bf_bench_speed_"))
    work.mkdir(parents=True, exist_ok=True)
    import torch
    import transformers
    load_before = os.getloadavg()[0]
    peaks = matmul_peaks(a.threads, a.precisions)
    data, vocab = prepare_data(bf, work, 200)
    rows = []
    for model in a.models:
        cfg_path = work / f"{model}.json"
        cfg_path.write_text(json.dumps({**MODELS[model], "max_position_embeddings": 512}))
        flops_per_token = 6 * non_embedding_params(MODELS[model])
        for precision in a.precisions:
            peak = peaks[precision]["peak_flops"]
            runs = {"bertforge": [], "hf": []}
            for _ in range(a.repeats):
                runs["bertforge"].append(run_bertforge(bf, a, cfg_path, data["train"][1], precision,
                                                       work / f"bf-{model}-{precision}", flops_per_token, peak))
                runs["hf"].append(run_hf(a, model, vocab, data["train"][0], precision, work / f"hf-{model}-{precision}",
                                         flops_per_token, peak))
            ours, theirs = (median_run(runs[side]) for side in ["bertforge", "hf"])
            rows.append({"model": f"bert-{model}", "precision": precision, "non_embedding_params": flops_per_token // 6,
                         "bertforge": ours, "hf": theirs})
            print(f"bert-{model} {precision}: bertforge {ours['seq_per_s']:.2f} seq/s, HF {theirs['seq_per_s']:.2f} "
                  f"seq/s ({ours['seq_per_s'] / theirs['seq_per_s']:.2f}x)", flush=True)
    commit, machine = provenance()
    date = datetime.datetime.now(datetime.timezone.utc)
    report = {"date": date.strftime("%Y-%m-%d %H:%M UTC"), "machine": machine, "host": host(),
              "bertforge_commit": commit, "torch": torch.__version__, "transformers": transformers.__version__,
              "threads": a.threads, "warmup": a.warmup, "steps": a.steps, "repeats": a.repeats, "lr": a.lr,
              "peaks": peaks,
              "load_before": load_before, "load_after": os.getloadavg()[0],
              "flops": "6 x non-embedding parameters x tokens, padding included (HF floating_point_ops)", "rows": rows}
    write_report(report, markdown(report), a.out, date, "pretrain", work)


if __name__ == "__main__":
    main()
