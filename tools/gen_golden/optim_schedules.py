"""Writes tests/golden/optim_schedules.json: PyTorch optimizer steps (single-tensor and fused=True, the CPU
kernels of at::_fused_adam_/_fused_adamw_) and transformers LR schedules, the oracle for
tests/train/optimizer_test.cpp. LAMB has no implementation in the venv (apex is CUDA-only), so its
expected values come from a float64 transcription of apex's multi_tensor_lamb below.

Run: ~/.local/share/bertforge/venv/bin/python tools/gen_golden/optim_schedules.py
"""
import json
import pathlib
import re

import torch
import transformers

OUT = pathlib.Path(__file__).resolve().parents[2] / "tests" / "golden" / "optim_schedules.json"
STEPS = 6
LRS = [1e-2, 2e-2, 5e-3, 1e-2, 3e-2, 1e-3]
TORCH_KINDS = ["adam", "adamw_torch", "sgd", "adam_torch_fused", "adamw_torch_fused"]  # bertforge's optim names
HP = dict(beta1=0.9, beta2=0.999, eps=1e-6, weight_decay=0.05)


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def problem():
    g = torch.Generator().manual_seed(0)
    params = {"encoder.dense.weight": torch.randn(3, 4, generator=g),
              "encoder.dense.bias": torch.randn(4, generator=g),
              "encoder.LayerNorm.weight": torch.randn(4, generator=g),
              # long enough for the fused kernels' vectorised loop, not only their scalar tail
              "encoder.intermediate.dense.weight": torch.randn(8, 37, generator=g)}
    grads = [{k: torch.randn(v.shape, generator=g) for k, v in params.items()} for _ in range(STEPS)]
    return params, grads


def decays(name):  # transformers Trainer.get_decay_parameter_names
    return not re.search(r"bias|layernorm|rmsnorm|(?:^|\.)norm(?:$|\.)|_norm(?:$|\.)", name.lower())


def run_torch(kind, params, grads):
    ps = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    groups = [{"params": [p for k, p in ps.items() if decays(k)], "weight_decay": HP["weight_decay"]},
              {"params": [p for k, p in ps.items() if not decays(k)], "weight_decay": 0.0}]
    if kind == "sgd":
        opt = torch.optim.SGD(groups, lr=LRS[0])
    else:
        cls = torch.optim.Adam if kind.startswith("adam_") or kind == "adam" else torch.optim.AdamW
        opt = cls(groups, lr=LRS[0], betas=(HP["beta1"], HP["beta2"]), eps=HP["eps"], fused=kind.endswith("_fused"))
    for step in range(STEPS):
        for group in opt.param_groups:
            group["lr"] = LRS[step]
        for k, p in ps.items():
            p.grad = grads[step][k].clone()
        opt.step()
    return {k: flat(p) for k, p in ps.items()}


def run_lamb(params, grads):
    ps = {k: v.double().clone() for k, v in params.items()}
    m = {k: torch.zeros_like(v) for k, v in ps.items()}
    v2 = {k: torch.zeros_like(v) for k, v in ps.items()}
    b1, b2, eps = HP["beta1"], HP["beta2"], HP["eps"]
    for step in range(1, STEPS + 1):
        lr = LRS[step - 1]
        for k, p in ps.items():
            g = grads[step - 1][k].double()
            wd = HP["weight_decay"] if decays(k) else 0.0
            m[k] = b1 * m[k] + (1 - b1) * g
            v2[k] = b2 * v2[k] + (1 - b2) * g * g
            update = (m[k] / (1 - b1 ** step)) / ((v2[k] / (1 - b2 ** step)).sqrt() + eps) + wd * p
            pn, un = p.norm().item(), update.norm().item()
            ratio = lr * pn / un if wd != 0 and pn != 0 and un != 0 else lr
            ps[k] = p - ratio * update
    return {k: flat(p) for k, p in ps.items()}


def schedules():
    out = []
    for kind in ["linear", "cosine", "constant", "constant_with_warmup", "polynomial"]:
        for warmup, total in [(0, 10), (3, 10), (4, 7)]:
            opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1e-3)
            sched = transformers.get_scheduler(kind, opt, num_warmup_steps=warmup, num_training_steps=total)
            lrs = []
            for _ in range(total + 3):
                lrs.append(opt.param_groups[0]["lr"])
                opt.step()
                sched.step()
            out.append({"type": kind, "base_lr": 1e-3, "warmup": warmup, "total": total, "lrs": lrs})
    return out


def main():
    params, grads = problem()
    golden = {
        "generator": "tools/gen_golden/optim_schedules.py",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
        "hyper": HP, "lrs": LRS,
        "params": {k: {"shape": list(v.shape), "values": flat(v)} for k, v in params.items()},
        "grads": [{k: flat(v) for k, v in g.items()} for g in grads],
        "expected": {kind: run_torch(kind, params, grads) for kind in TORCH_KINDS},
        "schedules": schedules(),
    }
    golden["expected"]["lamb"] = run_lamb(params, grads)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(golden, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
