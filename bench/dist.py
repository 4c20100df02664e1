"""Data-parallel costs on this machine, ours beside PyTorch's own, from one run.

  python bench/dist.py [--build build] [--mb 25] [--model mini] [--batch 8]

1. Gradient all-reduce bandwidth, 2 processes on loopback (Gloo): ours = bench_dist allreduce (sync_gradients
   on one 25 MB bucket, copies included) under `bertforge launch`; peer = torch.distributed.all_reduce (Gloo)
   of the same buffer in 2 Python processes.
2. Scaling 1 -> 2 processes, 1 thread each: BertForPreTraining steps (bench_dist train) with the same batch per
   process; efficiency = samples/s with 2 / (2 x samples/s with 1).
Prints a table and `uptime` (the machine is shared).
"""
import os
import sys

# bench/ holds tokenize.py (another driver), which would shadow the standard module of that name.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != _here]

import argparse  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def launch(build, n, args):
    return [f"{build}/bertforge", "launch", "--nproc-per-node", str(n), "--master-port", str(free_port()),
            "--exec", "--", f"{build}/bench/bench_dist"] + args


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--mb", type=float, default=25)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--model", default="mini")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=8)
    a = ap.parse_args()

    ours = run_json(launch(a.build, 2, ["allreduce", "--mb", str(a.mb), "--iters", str(a.iters)]))
    peer_ms = peer_allreduce_ms(a.mb, a.iters)
    mb_bytes = a.mb * (1 << 20)
    print(f"all-reduce {a.mb:g} MB, 2 processes, Gloo on loopback")
    print(f"  ours  {ours['ms']:8.2f} ms  {ours['algo_gbps']:6.3f} GB/s (bus {ours['bus_gbps']:.3f})")
    print(f"  torch {peer_ms:8.2f} ms  {mb_bytes / peer_ms / 1e6:6.3f} GB/s   ours/torch time {ours['ms'] / peer_ms:.2f}")

    train = ["train", "--model", a.model, "--batch", str(a.batch), "--seq", str(a.seq), "--steps", str(a.steps)]
    one = run_json([f"{a.build}/bench/bench_dist"] + train)
    two = run_json(launch(a.build, 2, train))
    eff = two["samples_per_s"] / (2 * one["samples_per_s"])
    print(f"training {a.model}, batch {a.batch}/process, seq {a.seq}, 1 thread/process")
    print(f"  1 process   {one['samples_per_s']:8.2f} samples/s  ({one['step_s'] * 1e3:.0f} ms/step)")
    print(f"  2 processes {two['samples_per_s']:8.2f} samples/s  ({two['step_s'] * 1e3:.0f} ms/step)  "
          f"speed-up {two['samples_per_s'] / one['samples_per_s']:.2f}, efficiency {eff:.2f}")
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    sys.exit(main())
