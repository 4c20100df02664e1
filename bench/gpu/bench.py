"""bertforge pretrain vs HF Trainer on one GPU: bert-base (bert-base-cased's vocabulary), bf16, each side's
default fused AdamW, the same synthetic data, batch and steps, in one run.

    python bench/gpu/bench.py --bin .gpu/bin/bertforge --vocab DIR --out OUT [--rows 128x32,128x64,128x128,512x32]

Data: full-length synthetic NSP rows ([CLS] A [SEP] B [SEP], random ids, no padding), the same rows for both
sides: an HF save_to_disk-style folder for bertforge, a torch Dataset over the same arrays for HF (the GPU
machine has no `datasets`). Speed: both sides log every --window steps; the first window (warm-up: allocator,
cuBLAS heuristics, kernel loading) is dropped and seq/s is taken over the rest, from bertforge's progress lines
and an HF callback that synchronises the GPU at the same steps. FLOPs per sequence: 6 x non-embedding
parameters x seq (HF's floating_point_ops) plus attention's 12 x layers x seq^2 x hidden (QK^T and PV, forward
and backward); MFU over the bf16 matmul rate measured here first and over the H100/H200 datasheet's 989 TFLOP/s.
Peak memory: the most nvidia-smi showed for the process (the same measure for both sides, CUDA context
included). Loss: the mean logged loss of the last window on each side (different masks and initial weights:
a sanity check that both learn the same way, not a parity test).
Writes OUT/report.json (a `rows` list) and OUT/report.md.
"""
import argparse
import datetime
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import pyarrow as pa
import torch

BASE = dict(vocab_size=28996, hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
            max_position_embeddings=512)
DATASHEET_BF16 = 989e12

HF_RUN = r"""
import json, sys, time, numpy as np, torch, transformers
cfg = json.loads(sys.argv[1])
arrays = np.load(cfg["data"])

class Rows(torch.utils.data.Dataset):
    def __len__(self): return len(arrays["input_ids"])
    def __getitem__(self, i):
        return {k: torch.tensor(arrays[k][i], dtype=torch.long) for k in
                ("input_ids", "token_type_ids", "attention_mask", "next_sentence_label")}

class Clock(transformers.TrainerCallback):
    marks = []
    def on_step_end(self, args, state, control, **kw):
        if state.global_step % cfg["window"] == 0:
            torch.cuda.synchronize()
            self.marks.append((state.global_step, time.perf_counter()))

transformers.set_seed(42)
model = transformers.BertForPreTraining(transformers.BertConfig(**cfg["model"]))
tok = transformers.BertTokenizerFast(cfg["vocab"] + "/vocab.txt", do_lower_case=False)
args = transformers.TrainingArguments(output_dir=cfg["out"], per_device_train_batch_size=cfg["batch"], bf16=True,
    learning_rate=5e-5, max_steps=cfg["steps"], logging_steps=cfg["window"], save_strategy="no", report_to=[],
    seed=42, dataloader_num_workers=4, dataloader_pin_memory=True, disable_tqdm=True)
trainer = transformers.Trainer(model=model, args=args, train_dataset=Rows(), callbacks=[Clock()],
    data_collator=transformers.DataCollatorForLanguageModeling(tok, mlm_probability=0.15))
trainer.train()
json.dump({"marks": Clock.marks, "log_history": trainer.state.log_history, "optim": str(args.optim)},
          open(cfg["out"] + "/hf.json", "w"))
"""


def matmul_peak():
    n, reps = 8192, 10
    a, b = (torch.randn(n, n, device="cuda", dtype=torch.bfloat16) for _ in range(2))
    for _ in range(3):
        a @ b
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(reps):
        a @ b
    end.record()
    torch.cuda.synchronize()
    return 2 * n**3 * reps / (start.elapsed_time(end) / 1e3)


def synthetic(seq, rows, vocab, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(999, vocab, size=(rows, seq), dtype=np.int32)  # past bert-base-cased's [unused] block
    a_len = rng.integers(8, seq - 8, size=rows)
    types = (np.arange(seq)[None, :] > a_len[:, None]).astype(np.int8)
    ids[:, 0] = 101
    ids[np.arange(rows), a_len] = 102
    ids[:, -1] = 102
    return dict(input_ids=ids, token_type_ids=types, attention_mask=np.ones((rows, seq), np.int8),
                next_sentence_label=rng.integers(0, 2, size=rows).astype(np.int64))


def write_hf_folder(arrays, folder):
    """The layout of datasets' save_to_disk (Arrow IPC stream + state.json + dataset_info.json)."""
    folder.mkdir(parents=True)
    seq = lambda t: {"feature": {"dtype": t, "_type": "Value"}, "_type": "Sequence"}
    features = {"input_ids": seq("int32"), "token_type_ids": seq("int8"), "attention_mask": seq("int8"),
                "next_sentence_label": {"dtype": "int64", "_type": "Value"}}
    cols = {k: pa.array(list(v)) if v.ndim == 2 else pa.array(v) for k, v in arrays.items()}
    table = pa.table(cols).replace_schema_metadata({"huggingface": json.dumps({"info": {"features": features}})})
    with pa.OSFile(str(folder / "data-00000-of-00001.arrow"), "wb") as f, pa.ipc.new_stream(f, table.schema) as w:
        w.write_table(table)
    (folder / "state.json").write_text(json.dumps({"_data_files": [{"filename": "data-00000-of-00001.arrow"}],
                                                   "_fingerprint": "synthetic", "_format_columns": None,
                                                   "_format_kwargs": {}, "_format_type": None,
                                                   "_output_all_columns": False, "_split": "train"}))
    (folder / "dataset_info.json").write_text(json.dumps({"features": features}))


class PeakMemory:
    """Polls nvidia-smi for the most memory a process held."""

    def __init__(self, pid):
        self.pid, self.peak, self.done = pid, 0, False
        self.thread = threading.Thread(target=self.poll, daemon=True)
        self.thread.start()

    def poll(self):
        while not self.done:
            q = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                               capture_output=True, text=True).stdout
            for line in q.splitlines():
                pid, mib = (x.strip() for x in line.split(","))
                if pid.isdigit() and int(pid) == self.pid:
                    self.peak = max(self.peak, int(mib))
            time.sleep(0.2)

    def stop(self):
        self.done = True
        self.thread.join()
        return self.peak / 1024


def run_with_peak(cmd, log):
    with open(log, "w") as f:
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, text=True)
        peak = PeakMemory(proc.pid)
        rc = proc.wait()
    gib = peak.stop()
    if rc != 0:
        raise RuntimeError(f"{cmd[0]} exited {rc}: {pathlib.Path(log).read_text()[-2000:]}")
    return gib


def bertforge_row(a, work, data, batch, steps):
    out = work / "bf"
    (work / "base.json").write_text(json.dumps(BASE))
    gib = run_with_peak([a.bin, "pretrain", "--device", "cuda", "--bf16", "--model", str(work / "base.json"),
                         "--tokenizer", a.vocab, "--train_data", str(data), "--output_dir", str(out),
                         "--overwrite_output_dir", "--per_device_train_batch_size", str(batch), "--max_steps", str(steps),
                         "--logging_steps", str(a.window), "--save_strategy", "no", "--learning_rate", "5e-5",
                         "--seed", "42"], work / "bertforge.log")
    # Progress lines: "step K/N  loss L  lr X  R seq/s ..." once per window.
    rates = [float(m.group(1)) for m in re.finditer(r"step \d+/\d+ .*?([\d.]+) seq/s", (work / "bertforge.log").read_text())]
    timed = rates[1:]
    seq_s = len(timed) / sum(1 / r for r in timed)  # equal sequences per window: the harmonic mean
    losses = [json.loads(l)["loss"] for l in (out / "metrics.jsonl").read_text().splitlines() if '"loss"' in l]
    return seq_s, gib, losses[-1]


def hf_row(a, work, arrays, batch, steps):
    np.savez(work / "rows.npz", **arrays)
    cfg = dict(model=BASE, vocab=a.vocab, data=str(work / "rows.npz"), out=str(work / "hf"), batch=batch, steps=steps,
               window=a.window)
    pathlib.Path(cfg["out"]).mkdir()
    gib = run_with_peak([sys.executable, "-c", HF_RUN, json.dumps(cfg)], work / "hf.log")
    r = json.loads((work / "hf" / "hf.json").read_text())
    (s0, t0), (s1, t1) = r["marks"][0], r["marks"][-1]
    losses = [e["loss"] for e in r["log_history"] if "loss" in e]
    return (s1 - s0) * batch / (t1 - t0), gib, losses[-1], r["optim"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--vocab", required=True, help="bert-base-cased tokenizer folder (vocab.txt)")
    p.add_argument("--out", required=True)
    p.add_argument("--rows", default="128x32,128x64,128x128,512x32", help="SEQxBATCH,...")
    p.add_argument("--window", type=int, default=10)
    p.add_argument("--windows", type=int, default=5, help="logging windows per run (the first is warm-up)")
    a = p.parse_args()
    if not torch.cuda.is_available():
        sys.exit("bench.py: no CUDA device here: this benchmark needs a GPU")
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    peak = matmul_peak()
    layers, hidden = BASE["num_hidden_layers"], BASE["hidden_size"]
    non_embedding = None
    report = dict(date=datetime.date.today().isoformat(), gpu=torch.cuda.get_device_name(), torch=torch.__version__,
                  data="synthetic full-length NSP rows (no padding)", precision="bf16",
                  measured_bf16_matmul_tflops=peak / 1e12, rows=[])
    for spec in a.rows.split(","):
        seq, batch = map(int, spec.split("x"))
        steps = a.window * a.windows
        work = pathlib.Path(tempfile.mkdtemp(prefix=f"bf_gpu_{seq}x{batch}_"))
        arrays = synthetic(seq, batch * steps, BASE["vocab_size"])
        write_hf_folder(arrays, work / "data.hf")
        if non_embedding is None:
            import transformers
            m = transformers.BertForPreTraining(transformers.BertConfig(**BASE))
            non_embedding = sum(p.numel() for n, p in m.named_parameters() if "embeddings" not in n)
            del m
        flops_per_seq = 6 * non_embedding * seq + 12 * layers * seq * seq * hidden
        row = dict(model="bert-base", seq=seq, batch=batch, precision="bf16", steps=steps, timed_steps=steps - a.window)
        for side, fn in [("bertforge", lambda: bertforge_row(a, work, work / "data.hf", batch, steps)),
                         ("hf", lambda: hf_row(a, work, arrays, batch, steps))]:
            try:
                res = fn()
                row[f"{side}_seq_per_s"], row[f"{side}_peak_mem_gib"], row[f"{side}_loss"] = res[:3]
                row[f"{side}_tokens_per_s"] = res[0] * seq
                row[f"{side}_mfu"] = res[0] * flops_per_seq / peak
                row[f"{side}_mfu_989"] = res[0] * flops_per_seq / DATASHEET_BF16
                if side == "hf":
                    row["hf_optim"] = res[3]
            except Exception as e:  # one side failing must not lose the other rows
                row[f"{side}_error"] = str(e)[-1500:]
        if "bertforge_seq_per_s" in row and "hf_seq_per_s" in row:
            row["ratio"] = row["bertforge_seq_per_s"] / row["hf_seq_per_s"]
        row["mfu"] = row.get("bertforge_mfu")
        report["rows"].append(row)
        print(json.dumps(row), flush=True)
    (out / "report.json").write_text(json.dumps(report, indent=2))
    (out / "report.md").write_text(markdown(report))
    print(markdown(report))


def markdown(r):
    f = lambda row, k, fmt: format(row[k], fmt) if isinstance(row.get(k), (int, float)) else "failed"
    lines = [f"bert-base pre-training on one {r['gpu']}, {r['date']}, torch {r['torch']}, {r['data']}, bf16; "
             f"measured bf16 matmul {r['measured_bf16_matmul_tflops']:.0f} TFLOP/s. MFU = FLOPs (6 x non-embedding "
             "parameters x tokens + attention) / measured peak (and / 989 TFLOP/s).", "",
             "| seq | batch | bertforge seq/s | HF seq/s | ratio | bertforge MFU | HF MFU | peak GiB (bf / HF) "
             "| loss (bf / HF) |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in r["rows"]:
        lines.append(f"| {row['seq']} | {row['batch']} | {f(row, 'bertforge_seq_per_s', '.0f')} | "
                     f"{f(row, 'hf_seq_per_s', '.0f')} | {f(row, 'ratio', '.2f')} | "
                     f"{f(row, 'bertforge_mfu', '.1%')} ({f(row, 'bertforge_mfu_989', '.1%')}) | "
                     f"{f(row, 'hf_mfu', '.1%')} ({f(row, 'hf_mfu_989', '.1%')}) | "
                     f"{f(row, 'bertforge_peak_mem_gib', '.1f')} / {f(row, 'hf_peak_mem_gib', '.1f')} | "
                     f"{f(row, 'bertforge_loss', '.3f')} / {f(row, 'hf_loss', '.3f')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
