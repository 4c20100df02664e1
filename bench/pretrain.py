"""Benchmark and curve comparison: bertforge pretrain vs HF Trainer on the reference's data, same run, same
machine, same hyper-parameters (the reference's: batch 8, AdamW with weight decay 0 = Adam, linear schedule
without warm-up, seed 42; lr and steps as given).

    BERTFORGE_BIN=build/bertforge python bench/pretrain.py [--steps 300] [--lr 5e-5] [--threads 2]

Data: tests/fixtures/rocm-blog/wikiTokenizedValid.hf (BERTFORGE_DATA), rows [0, N-eval) for training and the
last --eval rows for evaluation, both as HF save_to_disk folders (bertforge imports them with `prepare`).
Model: bert-mini (4 layers, hidden 256) with bert-base-cased's vocabulary (28996), HF initialisation under
seed 42 on both sides (different generators, so the starting weights differ; the curves are compared in
windows, against the step-to-step noise). Both sides use --threads intra-op threads. Note: the reference rows
are padded to 128; HF's collator keeps that padding, bertforge's import drops it and pads each batch to its
longest row, so part of the speed ratio is padding not computed. Prints the load average.
"""
import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = pathlib.Path(os.environ.get("BERTFORGE_DATA") or ROOT / "tests" / "fixtures")
MINI = dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024, vocab_size=28996)

# What every HF run of the benchmarks times: the end of each optimizer step (StepTimes) and the real and padded
# tokens of each batch its collator makes (counting(collate)).
HF_TIMING = """
tokens = []
def counting(collate):
    def collator(rows):
        batch = collate(rows)
        tokens.append([int(batch["attention_mask"].sum()), batch["input_ids"].numel()])
        return batch
    return collator
class StepTimes(transformers.TrainerCallback):
    times = []
    def on_step_end(self, args, state, control, **kw):
        self.times.append(time.perf_counter())
"""

# HF Trainer on the same data; writes log_history.json and step_times.json (time.perf_counter() at the end
# of each optimizer step, and the real and padded tokens of each step's batch) into cfg["out"].
HF_RUN = """
import json, sys, time, torch, datasets, transformers
cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg["threads"])
transformers.set_seed(cfg.get("seed", 42))
model = transformers.BertForPreTraining(transformers.BertConfig(**cfg["model"]))
tok = transformers.BertTokenizerFast(cfg["vocab"], do_lower_case=False)
mlm = transformers.DataCollatorForLanguageModeling(tok, mlm_probability=0.15)
""" + HF_TIMING + """
collator = counting(mlm)
evaluating = cfg.get("eval") is not None
args = transformers.TrainingArguments(output_dir=cfg["out"], per_device_train_batch_size=8, per_device_eval_batch_size=8,
    learning_rate=cfg["lr"], weight_decay=0.0, max_steps=cfg["steps"], lr_scheduler_type="linear", warmup_steps=0,
    logging_steps=cfg["log"], eval_strategy="steps" if evaluating else "no", eval_steps=cfg.get("eval_steps"),
    save_strategy="no", seed=cfg.get("seed", 42), optim=cfg["optim"], bf16=cfg.get("bf16", False), report_to=[], use_cpu=True,
    dataloader_num_workers=0, disable_tqdm=True)
trainer = transformers.Trainer(model=model, args=args, data_collator=collator, callbacks=[StepTimes()],
    train_dataset=datasets.load_from_disk(cfg["train"]),
    eval_dataset=datasets.load_from_disk(cfg["eval"]) if evaluating else None)
trainer.train()
json.dump(trainer.state.log_history, open(cfg["out"] + "/log_history.json", "w"))
json.dump({"times": StepTimes.times, "tokens": tokens[:len(StepTimes.times)]}, open(cfg["out"] + "/step_times.json", "w"))
"""


def prepare_data(bf, work, eval_rows):
    """The reference's rows [0, N-eval_rows) and the rest as HF save_to_disk folders, and each imported by
    `bertforge prepare`; returns {split: (hf folder, bertforge folder)} and the vocabulary file."""
    import datasets
    vocab = DATA / "vocab" / "bert-base-cased" / "vocab.txt"
    ref = datasets.load_from_disk(str(DATA / "rocm-blog" / "wikiTokenizedValid.hf"))
    n = len(ref)
    out = {}
    for split, rows in [("train", range(n - eval_rows)), ("eval", range(n - eval_rows, n))]:
        ref.select(rows).save_to_disk(str(work / f"{split}.hf"))
        subprocess.run([bf, "prepare", work / f"{split}.hf", "--vocab", vocab, "-o", work / f"{split}.bf"], check=True,
                       capture_output=True)
        out[split] = (work / f"{split}.hf", work / f"{split}.bf")
    return out, vocab


def provenance():
    """(the checkout's short commit, "<CPU model>, <n> cores"): what a report names its binary and machine by."""
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
               platform.processor())
    return commit.strip(), f"{cpu}, {os.cpu_count()} cores"


def host():
    """What the CPU offers the matmuls: model, family and model numbers, the flags that decide the kernels, ATen's
    capability, the GEMM library of bertforge's fp32 linear layers (`bertforge version`), and a kind (amx, avx512-bf16, avx512, avx2) that names which table a figure belongs to."""
    info = {}
    for line in open("/proc/cpuinfo"):
        key, _, value = line.partition(":")
        info.setdefault(key.strip(), value.strip())
    flags = [f for f in ["avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"] if f in info.get("flags", "").split()]
    import torch
    kind = ("amx" if "amx_bf16" in flags else "avx512-bf16" if "avx512_bf16" in flags
            else "avx512" if "avx512f" in flags else "avx2")
    bf = os.environ.get("BERTFORGE_BIN", str(ROOT / "build" / "bertforge"))
    version = subprocess.run([bf, "version"], check=True, capture_output=True, text=True).stdout
    gemm = next(line.split(": ", 1)[1] for line in version.splitlines() if line.startswith("fp32 linear layers"))
    return {"model": info.get("model name", platform.processor()), "family": info.get("cpu family"),
            "model_number": info.get("model"), "flags": flags, "aten": torch.backends.cpu.get_cpu_capability(),
            "kind": kind, "bertforge_fp32_gemm": gemm}


def windows(history, size):
    out = {}
    for e in history:
        if "loss" in e:
            out.setdefault((e["step"] - 1) // size, []).append(e["loss"])
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--eval", type=int, default=200)
    p.add_argument("--keep", help="folder to keep outputs in (default: a temporary one)")
    a = p.parse_args()
    bf = os.environ.get("BERTFORGE_BIN", str(ROOT / "build" / "bertforge"))
    work = pathlib.Path(a.keep or tempfile.mkdtemp(prefix="bf_bench_pretrain_"))
    work.mkdir(parents=True, exist_ok=True)
    _, vocab = prepare_data(bf, work, a.eval)
    (work / "mini.json").write_text(json.dumps({**MINI, "max_position_embeddings": 512}))

    log, eval_steps = 10, max(a.steps // 3, 1)
    common = ["--per_device_train_batch_size", "8", "--per_device_eval_batch_size", "8", "--learning_rate", a.lr,
              "--weight_decay", "0", "--max_steps", a.steps, "--lr_scheduler_type", "linear", "--logging_steps", log,
              "--eval_strategy", "steps", "--eval_steps", eval_steps, "--save_strategy", "no", "--seed", "42",
              "--optim", "adamw_torch"]
    load = os.getloadavg()
    subprocess.run([bf, "pretrain", "--threads", str(a.threads), "--device", "cpu", "--model", work / "mini.json",
                    "--train_data", work / "train.bf", "--eval_data", work / "eval.bf", "--output_dir", work / "bf",
                    "--overwrite_output_dir", *map(str, common)], check=True)
    cfg = dict(threads=a.threads, model=MINI, vocab=str(vocab), out=str(work / "hf"), lr=a.lr, steps=a.steps, log=log,
               optim="adamw_torch", eval_steps=eval_steps, train=str(work / "train.hf"), eval=str(work / "eval.hf"))
    subprocess.run([sys.executable, "-c", HF_RUN, json.dumps(cfg)], check=True)
    load_after = os.getloadavg()

    ours = json.loads((work / "bf" / "trainer_state.json").read_text())["log_history"]
    hf = json.loads((work / "hf" / "log_history.json").read_text())
    print(f"\nload average before {load[0]:.2f}, after {load_after[0]:.2f}; threads {a.threads}; outputs in {work}")
    print("\nsteps      bertforge loss  HF loss   (mean over window; HF step-to-step sd)")
    wo, wh = windows(ours, 50), windows(hf, 50)
    for k in sorted(wo):
        sd = statistics.stdev(wh[k]) if len(wh.get(k, [])) > 1 else float("nan")
        print(f"{k * 50 + 1:4d}-{(k + 1) * 50:<4d}  {statistics.mean(wo[k]):14.4f}  {statistics.mean(wh[k]):8.4f}   {sd:.4f}")
    print("\neval at step  bertforge eval_loss  HF eval_loss")
    eo = {e["step"]: e["eval_loss"] for e in ours if "eval_loss" in e}
    eh = {e["step"]: e["eval_loss"] for e in hf if "eval_loss" in e}
    for s in sorted(eo):
        print(f"{s:12d}  {eo[s]:19.4f}  {eh.get(s, float('nan')):12.4f}")
    so = next(e for e in ours if "train_samples_per_second" in e)["train_samples_per_second"]
    sh = next(e for e in hf if "train_samples_per_second" in e)["train_samples_per_second"]
    print(f"\ntrain samples/s (incl. evaluations): bertforge {so:.2f}, HF {sh:.2f}, ratio {so / sh:.2f}")


if __name__ == "__main__":
    main()
