"""Data-parallel costs on this machine, ours beside PyTorch's and HF's own, alternating sides, medians.

  python bench/dist.py [--build build] [--mb 25] [--steps 40] [--repeats 3]

1. Gradient all-reduce of one --mb bucket, 2 processes: ours = bench_dist (sync_gradients, as training calls
   it) under `bertforge launch`, through shared memory (the default for CPU ranks of one machine) and over
   Gloo (BERTFORGE_GRADIENT_ALLREDUCE=gloo); peer = torch.distributed.all_reduce (Gloo) of the same buffer in
   2 Python processes. Then the same over two hosts made of network namespaces joined by a veth pair (root and
   iproute2 needed, else the row says why): one process in each, Gloo on both sides (GLOO_SOCKET_IFNAME).
2. Scaling 1 -> 2 processes, 1 thread each, batch 8 per process: `bertforge pretrain` (1 process, then
   `bertforge launch --nproc-per-node 2`) and HF Trainer (python, then torchrun --nproc-per-node 2: DDP on
   Gloo) pre-training bert-mini on the reference's wikiTokenizedValid.hf, the first --rows rows, no
   evaluation or checkpoint. samples/s = train_samples_per_second (all ranks); efficiency = samples/s with 2
   / (2 x samples/s with 1). Start-up is inside the measured runtime on both sides.
Each measurement runs --repeats times, the sides alternating; the table gives medians. Writes
bench/results/<date>-cpu-<host kind>-dist.{json,md} (the host named, as pretrain_speed does).
"""
import argparse
import contextlib
import datetime
import json
import os
import pathlib
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile

from pretrain import host, provenance
from pretrain_speed import write_report


ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = pathlib.Path(os.environ.get("BERTFORGE_DATA") or ROOT / "tests" / "fixtures")
VOCAB = DATA / "vocab" / "bert-base-cased" / "vocab.txt"
MINI = dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024, vocab_size=28996)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, env=None):
    """stdout of `cmd`; a failure raises RuntimeError with the last line it wrote to stderr."""
    r = subprocess.run(list(map(str, cmd)), capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"{pathlib.Path(str(cmd[0])).name} exited {r.returncode}: "
                           + (r.stderr.strip().splitlines() or [""])[-1])
    return r.stdout


def launch_prefix(build, n):
    return [f"{build}/bertforge", "launch", "--nproc-per-node", str(n), "--master-port", str(free_port()), "--"]


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
    run([*prefix, *cmd])
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
    run(cmd)
    history = json.loads((out / "log_history.json").read_text())
    return next(e for e in history if "train_samples_per_second" in e)["train_samples_per_second"]


TORCH_ALLREDUCE = """
import json, sys, time, torch, torch.distributed as dist
rank, addr, port, mb, iters = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(1)
dist.init_process_group("gloo", init_method=f"tcp://{addr}:{port}", rank=rank, world_size=2)
t = torch.ones(int(mb * (1 << 20) / 4))
dist.all_reduce(t)
dist.barrier()
start = time.perf_counter()
for _ in range(iters):
    dist.all_reduce(t)
    t /= 2
if rank == 0:
    print(json.dumps({"ms": (time.perf_counter() - start) / iters * 1e3}))
dist.destroy_process_group()
"""
HOSTS = ["10.251.0.1", "10.251.0.2"]


@contextlib.contextmanager
def two_hosts():
    """Two network namespaces joined by a veth pair, each its own address: [(namespace, interface)] * 2, or a
    string saying why they could not be made."""
    tag = str(os.getpid())
    ns, veth = [f"bfb{tag}{s}" for s in "ab"], [f"bfw{tag}{s}" for s in "ab"]
    ip = shutil.which("ip") or "/usr/sbin/ip"
    cmds = [[ip, "netns", "add", ns[0]], [ip, "netns", "add", ns[1]],
            [ip, "link", "add", veth[0], "netns", ns[0], "type", "veth", "peer", "name", veth[1], "netns", ns[1]]]
    for h in (0, 1):
        cmds += [[ip, "-n", ns[h], "addr", "add", HOSTS[h] + "/24", "dev", veth[h]],
                 [ip, "-n", ns[h], "link", "set", veth[h], "up"], [ip, "-n", ns[h], "link", "set", "lo", "up"]]
    try:
        for c in cmds:
            r = subprocess.run(c, capture_output=True, text=True)
            if r.returncode != 0:
                yield f"no namespace row: `{' '.join(c)}` failed ({r.stderr.strip()}; root and iproute2 needed)"
                return
        yield list(zip(ns, veth))
    finally:
        for n in ns:
            subprocess.run([ip, "netns", "del", n], capture_output=True)


def both(commands, hosts=None):
    """Runs the two commands at once, each inside its host (GLOO_SOCKET_IFNAME set to its interface) when
    `hosts` is given; the first one's stdout."""
    prefix = [["ip", "netns", "exec", n, "env", f"GLOO_SOCKET_IFNAME={v}"] for n, v in hosts] if hosts else [[], []]
    procs = [subprocess.Popen([*prefix[h], *map(str, commands[h])], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for h in (0, 1)]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, outs):
        if p.returncode != 0:
            raise RuntimeError(err.strip().splitlines()[-1] if err.strip() else f"exit {p.returncode}")
    return outs[0][0]


def ours_allreduce(build, mb, iters, gloo=False):
    env = {**os.environ, "BERTFORGE_GRADIENT_ALLREDUCE": "gloo" if gloo else "shm"}
    cmd = launch_prefix(build, 2)[:-1] + ["--exec", "--", f"{build}/bench/bench_dist", "--mb", str(mb), "--iters", str(iters)]
    return json.loads(run(cmd, env).strip().splitlines()[-1])["ms"]


def ours_allreduce_hosts(build, hosts, mb, iters):
    port = free_port()
    cmds = [[f"{build}/bertforge", "launch", "--nnodes", "2", "--node-rank", h, "--nproc-per-node", "1",
             "--master-addr", HOSTS[0], "--master-port", port, "--exec", "--", f"{build}/bench/bench_dist", "--mb", mb,
             "--iters", iters] for h in (0, 1)]
    return json.loads(both(cmds, hosts).strip().splitlines()[-1])["ms"]


def torch_allreduce(mb, iters, hosts=None):
    port = free_port()
    cmds = [[sys.executable, "-c", TORCH_ALLREDUCE, h, HOSTS[0] if hosts else "127.0.0.1", port, mb, iters]
            for h in (0, 1)]
    return json.loads(both(cmds, hosts).strip().splitlines()[-1])["ms"]


def alternating(repeats, sides):
    """{name: median} of each side's measure() over `repeats` rounds, the order reversed every other round."""
    runs = {name: [] for name in sides}
    for k in range(repeats):
        for name in (list(sides) if k % 2 == 0 else list(sides)[::-1]):
            try:
                runs[name].append(sides[name]())
            except RuntimeError as e:  # a launcher's port taken between free_port() and its bind, seen once
                print(f"  round {k + 1}: {name} failed ({e}); once more", flush=True)
                runs[name].append(sides[name]())
            print(f"  round {k + 1}: {name} {runs[name][-1]:.2f}", flush=True)
    return {name: statistics.median(v) for name, v in runs.items()}, runs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--mb", type=float, default=25)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    before = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print("before:", before)
    mb_bytes = a.mb * (1 << 20)

    print("all-reduce, one machine")
    reduce_ms, reduce_runs = alternating(a.repeats, {
        "ours, shared memory": lambda: ours_allreduce(build, a.mb, a.iters),
        "ours, Gloo": lambda: ours_allreduce(build, a.mb, a.iters, gloo=True),
        "torch.distributed, Gloo": lambda: torch_allreduce(a.mb, a.iters)})
    with two_hosts() as hosts:
        if isinstance(hosts, str):
            hosts_ms, hosts_runs, hosts_note = {}, {}, hosts
        else:
            print("all-reduce, two namespace hosts")
            hosts_ms, hosts_runs = alternating(a.repeats, {
                "ours, Gloo": lambda: ours_allreduce_hosts(build, hosts, a.mb, a.iters),
                "torch.distributed, Gloo": lambda: torch_allreduce(a.mb, a.iters, hosts)})
            hosts_note = ""

    work = pathlib.Path(tempfile.mkdtemp(prefix="bf_bench_dist_"))
    prepare(build, work, a.rows)
    print("pre-training bert-mini (samples/s)")
    rates, rate_runs = alternating(a.repeats, {
        "bertforge 1": lambda: ours_samples_per_s(build, work, 1, a.steps),
        "bertforge 2": lambda: ours_samples_per_s(build, work, 2, a.steps),
        "HF 1": lambda: hf_samples_per_s(work, 1, a.steps),
        "HF 2": lambda: hf_samples_per_s(work, 2, a.steps)})
    after = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()

    commit, machine = provenance()
    h = host()
    gbps = lambda ms: mb_bytes / ms / 1e6
    md = [f"# Data-parallel costs, {datetime.date.today()}", "",
          f"bertforge {commit} on {machine}; host {h['kind']} ({h['model']}, family {h['family']} "
          f"model {h['model_number']}); medians of {a.repeats} alternating rounds; load {before.split('load average:')[-1].strip()} "
          f"before, {after.split('load average:')[-1].strip()} after.", "",
          f"## All-reduce of one {a.mb:g} MB bucket, 2 processes, 1 thread each", "",
          "| where | side | ms | GB/s | time / torch's |", "| --- | --- | --- | --- | --- |"]
    for name, ms in reduce_ms.items():
        md.append(f"| one machine | {name} | {ms:.2f} | {gbps(ms):.3f} | {ms / reduce_ms['torch.distributed, Gloo']:.2f} |")
    for name, ms in hosts_ms.items():
        md.append(f"| two namespace hosts (veth) | {name} | {ms:.2f} | {gbps(ms):.3f} | "
                  f"{ms / hosts_ms['torch.distributed, Gloo']:.2f} |")
    if hosts_note:
        md.append(f"\n{hosts_note}")
    md += ["", f"## Pre-training bert-mini, batch 8 per process, 1 thread per process, {a.steps} steps", "",
           "| side | 1 process (samples/s) | 2 processes | speed-up | efficiency |", "| --- | --- | --- | --- | --- |"]
    for side in ["bertforge", "HF"]:
        one, two = rates[f"{side} 1"], rates[f"{side} 2"]
        md.append(f"| {side} | {one:.2f} | {two:.2f} | {two / one:.2f} | {two / (2 * one):.2f} |")
    md += ["", f"bertforge / HF with 2 processes: {rates['bertforge 2'] / rates['HF 2']:.2f}", ""]
    report = {"date": str(datetime.date.today()), "commit": commit, "machine": machine, "host": h,
              "load_before": before, "load_after": after, "mb": a.mb, "iters": a.iters, "steps": a.steps,
              "repeats": a.repeats, "allreduce_ms": reduce_runs, "allreduce_hosts_ms": hosts_runs,
              "hosts_note": hosts_note, "samples_per_s": rate_runs}
    write_report(report, "\n".join(md), a.out, datetime.date.today(), "dist", work)


if __name__ == "__main__":
    sys.exit(main())
