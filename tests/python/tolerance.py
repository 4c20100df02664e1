"""The tolerance table of every parity test, tests/common/tolerance.json (the C++ tests read it through
tests/common/tolerance.h), and its comparisons: the one place the Python tests take a tolerance from. The
table's "about" entry defines each column; here they are, as assertions naming what differs.

    t = tolerance("cpu", "float32")
    values_close(ours, hf, t, "prediction_logits")
"""
import json
import pathlib

TABLE = json.loads((pathlib.Path(__file__).resolve().parents[1] / "common" / "tolerance.json").read_text())


def tolerance(device="cpu", dtype="float32"):
    """The row for a device ("cpu", "cuda") and dtype ("float32", "bfloat16")."""
    return TABLE[device][dtype]


def values_close(got, want, t, what):
    """Elementwise |got - want| <= values * (1 + |want|); tensors or numbers."""
    import torch
    got, want = torch.as_tensor(got).double().cpu(), torch.as_tensor(want).double().cpu()
    bad = ((got - want).abs() > t["values"] * (1 + want.abs())).sum().item()
    assert bad == 0, f"{what}: {bad} values outside {t['values']:g} (max diff {(got - want).abs().max().item():.3g})"


def loss_close(got, want, t, what):
    """|got - want| <= loss * |want|."""
    got, want = float(got), float(want)
    assert abs(got - want) <= t["loss"] * abs(want), f"{what}: {got} vs {want} (relative {t['loss']:g})"


def grads_close(ours, grads, t):
    """Per parameter, max |ours - want| <= grad * max(max |want|, grad_floor * the model's largest gradient).
    ours: bertforge's "grad.<name>" tensors; grads: HF's by name."""
    assert set(grads) == {k[len("grad."):] for k in ours if k.startswith("grad.")}
    floor = TABLE["grad_floor"] * max(g.abs().max().item() for g in grads.values())
    for name, ref in grads.items():
        rel = (ours["grad." + name] - ref).abs().max().item() / max(ref.abs().max().item(), floor)
        assert rel <= t["grad"], f"grad of {name}: relative diff {rel:.3g} > {t['grad']:g}"


def json_differences(fresh, committed, close, where="$"):
    """Where two JSON values differ (a regenerated golden file against the committed one): numbers where
    close(fresh, committed) is false, everything else unequal; as lines naming the place."""
    if isinstance(committed, float) and isinstance(fresh, (int, float)) and not isinstance(fresh, bool):
        return [] if close(fresh, committed) else [f"{where}: {fresh!r} now, {committed!r} committed"]
    if isinstance(committed, dict) and isinstance(fresh, dict):
        if fresh.keys() != committed.keys():
            return [f"{where}: keys {sorted(fresh)} now, {sorted(committed)} committed"]
        return [d for k in committed for d in json_differences(fresh[k], committed[k], close, f"{where}.{k}")]
    if isinstance(committed, list) and isinstance(fresh, list) and len(fresh) == len(committed):
        return [d for i, (f, c) in enumerate(zip(fresh, committed))
                for d in json_differences(f, c, close, f"{where}[{i}]")]
    return [] if fresh == committed else [f"{where}: {fresh!r} now, {committed!r} committed"]
