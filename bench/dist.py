"""Data-parallel costs on this machine, ours beside PyTorch's and HF's own, from one run.

  python bench/dist.py [--build build] [--mb 25] [--steps 40]

1. Gradient all-reduce bandwidth, 2 processes on loopback (Gloo): ours = bench_dist (sync_gradients on one
   25 MB bucket, copies included) under `bertforge launch`; peer = torch.distributed.all_reduce (Gloo) of the
   same buffer in 2 Python processes.
2. Scaling 1 -> 2 processes, 1 thread each, batch 8 per process: `bertforge pretrain` (1 process, then
   `bertforge launch --nproc-per-node 2`) and HF Trainer (python, then torchrun --nproc-per-node 2: DDP on
   Gloo) pre-training bert-mini on the reference's wikiTokenizedValid.hf, the first --rows rows, no
   evaluation or checkpoint. samples/s = train_samples_per_second (all ranks); efficiency = samples/s with 2
   / (2 x samples/s with 1). Start-up is inside the measured runtime on both sides.
Prints a table and `uptime` (the machine may be shared).
"""
import argparse
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = pathlib.Path(os.environ.get("BERTFORGE_DATA") or ROOT / "tests" / "fixtures")
VOCAB = DATA / "vocab" / "bert-base-cased" / "vocab.txt"
MINI = dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024, vocab_size=28996)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def launch_prefix(build, n):
    return [f"{build}/bertforge", "launch", "--nproc-per-node", str(n), "--master-port", str(free_port()), "--"]


def torch_allreduce(rank, world, port, mb, iters, queue):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    t = torch.ones(int(mb * (1 << 20) / 4))
    dist.all_reduce(t)
    dist.barrier()
    start = time.perf_counter()
    for _ in range(iters):
        dist.all_reduce(t)
        t /= world  # DDP averages too
    s = (time.perf_counter() - start) / iters
    if rank == 0:
        queue.put(s)
    dist.destroy_process_group()


def peer_allreduce_ms(mb, iters):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    port = free_port()
    procs = [ctx.Process(target=torch_allreduce, args=(r, 2, port, mb, iters, queue)) for r in range(2)]
    for p in procs:
        p.start()
    s = queue.get(timeout=600)
    for p in procs:
        p.join()
    return s * 1e3


HF_RUN = """
import json, os, sys, torch, datasets, transformers
cfg = json.loads(sys.argv[1])
torch.set_num_threads(1)
transformers.set_seed(42)
model = transformers.BertForPreTraining(transformers.BertConfig(**cfg["model"]))
tok = transformers.BertTokenizerFast(cfg["vocab"], do_lower_case=False)
args = transformers.TrainingArguments(output_dir=cfg["out"], per_device_train_batch_size=8, max_steps=cfg["steps"],
    logging_steps=cfg["steps"], save_strategy="no", seed=42, report_to=[], use_cpu=True,
    ddp_backend="gloo" if int(os.environ.get("WORLD_SIZE", "1")) > 1 else None,
    dataloader_num_workers=0, disable_tqdm=True)
trainer = transformers.Trainer(model=model, args=args, train_dataset=datasets.load_from_disk(cfg["train"]),
    data_collator=transformers.DataCollatorForLanguageModeling(tok, mlm_probability=0.15))
trainer.train()
if trainer.is_world_process_zero():
    json.dump(trainer.state.log_history, open(cfg["out"] + "/log_history.json", "w"))
"""


def prepare(build, work, rows):
    import datasets
    ref = datasets.load_from_disk(str(DATA / "rocm-blog" / "wikiTokenizedValid.hf"))
    ref.select(range(min(rows, len(ref)))).save_to_disk(str(work / "train.hf"))
    subprocess.run([f"{build}/bertforge", "prepare", work / "train.hf", "--vocab", VOCAB, "-o", work / "train.bf"],
                   check=True, capture_output=True)
    (work / "mini.json").write_text(json.dumps({**MINI, "max_position_embeddings": 512}))


def ours_samples_per_s(build, work, n, steps):
    out = work / f"bf{n}"
    cmd = ["pretrain", "--threads", "1", "--device", "cpu", "--quiet", "--model", work / "mini.json", "--train_data",
           work / "train.bf", "--output_dir", out, "--overwrite_output_dir", "--per_device_train_batch_size", "8",
           "--max_steps", steps, "--logging_steps", steps, "--save_strategy", "no", "--seed", "42"]
    prefix = [f"{build}/bertforge"] if n == 1 else launch_prefix(build, n)
    subprocess.run([*map(str, prefix), *map(str, cmd)], check=True)
    history = json.loads((out / "metrics.jsonl").read_text().splitlines()[-1])
    return history["train_samples_per_second"]


def hf_samples_per_s(work, n, steps):
    out = work / f"hf{n}"
    out.mkdir(exist_ok=True)
    script = work / "hf_run.py"
    script.write_text(HF_RUN)
    cfg = json.dumps(dict(model=MINI, vocab=str(VOCAB), out=str(out), steps=steps, train=str(work / "train.hf")))
    torchrun = pathlib.Path(sys.executable).with_name("torchrun")
    cmd = [sys.executable, script, cfg] if n == 1 else [torchrun, "--nproc-per-node", str(n), "--master-port",
                                                        str(free_port()), script, cfg]
    subprocess.run(list(map(str, cmd)), check=True, capture_output=True)
    history = json.loads((out / "log_history.json").read_text())
    return next(e for e in history if "train_samples_per_second" in e)["train_samples_per_second"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--mb", type=float, default=25)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--rows", type=int, default=2000)
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    print("before:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())

    ours = run_json(launch_prefix(build, 2)[:-1] + ["--exec", "--", f"{build}/bench/bench_dist", "--mb", str(a.mb),
                                                   "--iters", str(a.iters)])
    peer_ms = peer_allreduce_ms(a.mb, a.iters)
    mb_bytes = a.mb * (1 << 20)

    work = pathlib.Path(tempfile.mkdtemp(prefix="bf_bench_dist_"))
    prepare(build, work, a.rows)
    rates = {(side, n): (ours_samples_per_s(build, work, n, a.steps) if side == "bertforge" else
                         hf_samples_per_s(work, n, a.steps)) for side in ["bertforge", "HF"] for n in [1, 2]}

    print(f"\nall-reduce {a.mb:g} MB, 2 processes, Gloo on loopback")
    print(f"  ours  {ours['ms']:8.2f} ms  {ours['algo_gbps']:6.3f} GB/s (bus {ours['bus_gbps']:.3f})")
    print(f"  torch {peer_ms:8.2f} ms  {mb_bytes / peer_ms / 1e6:6.3f} GB/s   ours/torch time {ours['ms'] / peer_ms:.2f}")
    print(f"\npre-training bert-mini, batch 8 per process, 1 thread per process, {a.steps} steps (samples/s)")
    print("  side        1 process  2 processes  speed-up  efficiency")
    for side in ["bertforge", "HF"]:
        one, two = rates[(side, 1)], rates[(side, 2)]
        print(f"  {side:10s} {one:10.2f} {two:12.2f} {two / one:9.2f} {two / (2 * one):11.2f}")
    print(f"  bertforge / HF with 2 processes: {rates[('bertforge', 2)] / rates[('HF', 2)]:.2f}")
    print("after:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    sys.exit(main())
