"""Same learning, bertforge vs HF Trainer: bert-mini trained the same number of steps on the reference's data
from several seeds, fp32 and bf16 autocast, each side with its default optimizer (adamw_torch_fused), and the
evaluation loss of every run. Speed is pretrain_speed.py's; this asks whether the two learn alike.

    BERTFORGE_BIN=build/bertforge python bench/same_learning.py [--steps 300] [--seeds 1 2 3]
        [--precisions fp32 bf16] [--threads 2] [--parallel 1] [--out bench/results]

Data and model as bench/pretrain.py: wikiTokenizedValid.hf less its last --eval rows for training, those rows
for evaluation (every steps/3 steps), bert-mini over bert-base-cased's vocabulary, batch 8, lr 5e-5 linear
without warm-up, weight decay 0. A seed sets each side's initial weights, masks and data order (different
generators: the same distribution, not the same numbers), so agreement is judged against the spread over seeds:
- same learning (per precision): the mean final eval loss of each side lies within the other side's range
  over the seeds [min, max];
- bf16 against fp32 (per side): at every evaluation the mean over seeds differs from fp32's by at most
  --bf16-tolerance (default 0.05 nats).
--parallel N runs N trainings at once (each with --threads threads): for a machine with cores to spare; the
losses do not depend on it. Writes <out>/<date>-cpu-same-learning.json and .md and prints the Markdown.
"""
import argparse
import concurrent.futures
import datetime
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

from pretrain import HF_RUN, MINI, ROOT, prepare_data, provenance


def run_bertforge(a, bf, work, seed, precision):
    out = work / f"bf-{precision}-{seed}"
    cmd = [bf, "pretrain", "--threads", a.threads, "--device", "cpu", "--model", work / "mini.json",
           "--train_data", work / "train.bf", "--eval_data", work / "eval.bf", "--output_dir", out,
           "--overwrite_output_dir", "--per_device_train_batch_size", "8", "--per_device_eval_batch_size", "8",
           "--learning_rate", a.lr, "--weight_decay", "0", "--max_steps", a.steps, "--lr_scheduler_type", "linear",
           "--logging_steps", "10", "--eval_strategy", "steps", "--eval_steps", eval_every(a), "--save_strategy",
           "no", "--seed", seed, "--quiet"] + (["--bf16"] if precision == "bf16" else [])
    subprocess.run([str(c) for c in cmd], check=True, capture_output=True)
    return evals(json.loads((out / "trainer_state.json").read_text())["log_history"])


def run_hf(a, vocab, work, seed, precision):
    out = work / f"hf-{precision}-{seed}"
    out.mkdir(parents=True, exist_ok=True)
    cfg = dict(threads=a.threads, model={**MINI, "max_position_embeddings": 512}, vocab=str(vocab), out=str(out),
               lr=a.lr, steps=a.steps, log=10, optim="adamw_torch_fused", eval_steps=eval_every(a), seed=seed,
               bf16=precision == "bf16", train=str(work / "train.hf"), eval=str(work / "eval.hf"))
    subprocess.run([sys.executable, "-c", HF_RUN, json.dumps(cfg)], check=True, capture_output=True)
    return evals(json.loads((out / "log_history.json").read_text()))


def eval_every(a):
    return max(a.steps // 3, 1)


def evals(history):
    """{step: eval_loss} of a run's log history."""
    return {e["step"]: e["eval_loss"] for e in history if "eval_loss" in e}


def judge(runs, seeds, precisions, tolerance):
    """The report's verdicts from runs[(side, precision, seed)] = {step: eval_loss}."""
    out = {}
    for p in precisions:
        final = {side: [runs[(side, p, s)][max(runs[(side, p, s)])] for s in seeds] for side in ("bertforge", "hf")}
        mean = {side: statistics.mean(v) for side, v in final.items()}
        within = {side: min(final[other]) <= mean[side] <= max(final[other])
                  for side, other in (("bertforge", "hf"), ("hf", "bertforge"))}
        out[p] = {"final_eval_loss": final, "mean": mean, "mean_within_other_range": within,
                  "same_learning": all(within.values())}
    if {"fp32", "bf16"} <= set(precisions):
        for side in ("bertforge", "hf"):
            steps = sorted(runs[(side, "fp32", seeds[0])])
            gaps = [abs(statistics.mean(runs[(side, "bf16", s)][t] for s in seeds) -
                        statistics.mean(runs[(side, "fp32", s)][t] for s in seeds)) for t in steps]
            out[f"bf16_vs_fp32_{side}"] = {"steps": steps, "gap": gaps, "within": max(gaps) <= tolerance}
    return out


def markdown(r):
    lines = [f"### Same learning, bert-mini, {r['date']} ({r['machine']})", "",
             f"bertforge {r['bertforge_commit']}, torch {r['torch']}, transformers {r['transformers']}; {r['steps']} "
             f"steps, batch 8, lr {r['lr']}, seeds {', '.join(map(str, r['seeds']))}, {r['threads']} threads, "
             f"adamw_torch_fused on both sides; eval loss on the last {r['eval_rows']} rows of wikiTokenizedValid.hf "
             f"every {r['eval_every']} steps. Same learning: each side's mean final eval loss lies within the other's "
             f"range over the seeds. bf16 tolerance against fp32: {r['bf16_tolerance']} nats at every evaluation.", "",
             "| precision | side | final eval loss per seed | mean | within the other's range |",
             "| --- | --- | --- | --- | --- |"]
    for p in r["precisions"]:
        v = r["verdicts"][p]
        for side, name in (("bertforge", "bertforge"), ("hf", "HF Trainer")):
            per_seed = ", ".join(f"{x:.4f}" for x in v["final_eval_loss"][side])
            lines.append(f"| {p} | {name} | {per_seed} | {v['mean'][side]:.4f} | "
                         f"{'yes' if v['mean_within_other_range'][side] else 'no'} |")
    for side, name in (("bertforge", "bertforge"), ("hf", "HF Trainer")):
        v = r["verdicts"].get(f"bf16_vs_fp32_{side}")
        if v:
            gaps = ", ".join(f"step {s}: {g:.4f}" for s, g in zip(v["steps"], v["gap"]))
            lines.append(f"\nbf16 vs fp32, {name} (mean over seeds): {gaps} — "
                         f"{'within' if v['within'] else 'outside'} {r['bf16_tolerance']}")
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--parallel", type=int, default=1)
    p.add_argument("--eval", type=int, default=200, help="rows held out for evaluation")
    p.add_argument("--bf16-tolerance", type=float, default=0.05)
    p.add_argument("--out", default=str(ROOT / "bench" / "results"))
    a = p.parse_args()
    bf = os.environ.get("BERTFORGE_BIN", str(ROOT / "build" / "bertforge"))
    work = pathlib.Path(tempfile.mkdtemp(prefix="bf_bench_same_"))
    _, vocab = prepare_data(bf, work, a.eval)
    (work / "mini.json").write_text(json.dumps({**MINI, "max_position_embeddings": 512}))
    jobs = [(side, prec, seed) for prec in a.precisions for seed in a.seeds for side in ("bertforge", "hf")]
    load = os.getloadavg()[0]
    with concurrent.futures.ThreadPoolExecutor(a.parallel) as pool:
        futures = {job: pool.submit(run_bertforge, a, bf, work, job[2], job[1]) if job[0] == "bertforge" else
                   pool.submit(run_hf, a, vocab, work, job[2], job[1]) for job in jobs}
        runs = {job: f.result() for job, f in futures.items()}
    import torch
    import transformers
    commit, machine = provenance()
    now = datetime.datetime.now(datetime.timezone.utc)
    report = {"date": now.strftime("%Y-%m-%d %H:%M UTC"), "machine": machine, "bertforge_commit": commit,
              "torch": torch.__version__,
              "transformers": transformers.__version__, "steps": a.steps, "lr": a.lr, "seeds": a.seeds,
              "threads": a.threads, "parallel": a.parallel, "precisions": a.precisions, "eval_rows": a.eval,
              "eval_every": eval_every(a), "bf16_tolerance": a.bf16_tolerance,
              "load_average": [load, os.getloadavg()[0]],
              "runs": {f"{s}-{p}-{seed}": v for (s, p, seed), v in runs.items()},
              "verdicts": judge(runs, a.seeds, a.precisions, a.bf16_tolerance)}
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"{now:%Y-%m-%d}-cpu-same-learning"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    stem.with_suffix(".md").write_text(markdown(report))
    print(markdown(report))
    print(f"wrote {stem}.json and .md; run outputs in {work}")


if __name__ == "__main__":
    main()
