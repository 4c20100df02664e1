"""bertforge's Trainer step by step against HF Trainer, as llm.c checks its step against PyTorch.

tests/golden/trainer_steps/ (written by tools/gen_golden/trainer_steps.py, which says how) holds what HF Trainer
logged and the weights it ended with, for runs on the micro-batches `bertforge pretrain` trains on: 20 steps
logged every step with the single-tensor AdamW and with HF 5's default fused AdamW (gradient accumulation 2,
clipping at 0.5, linear warm-up, weight decay, dropout 0), and 3 epochs with the reference's per-epoch
strategies, whose epochs end in a step of one micro-batch. Here bertforge runs each command again: its batches
must be those (same SHA-256, or the data path changed and the golden must be regenerated), every logged
entry's step, epoch, loss, grad_norm and learning_rate must match HF's, and so must the final weights, within
tests/common/tolerance.json's trainer_steps row (fp32 on the CPU).
"""
import importlib.util
import json
import pathlib

import pytest
import torch
from safetensors.torch import load_file

from tolerance import TABLE

SOURCE_DIR = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = SOURCE_DIR / "tests" / "golden" / "trainer_steps"
EXPECTED = json.loads((GOLDEN / "expected.json").read_text())
TOLERANCE = TABLE["trainer_steps"]


def generator():
    spec = importlib.util.spec_from_file_location("trainer_steps", SOURCE_DIR / "tools" / "gen_golden" / "trainer_steps.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def golden_data(tmp_path_factory, run_bertforge):
    gen = generator()
    root = tmp_path_factory.mktemp("golden")
    text = gen.corpus(root / "genesis.txt")
    run_bertforge("prepare", text, "--vocab", GOLDEN / "vocab.txt", "-o", root / "data", *EXPECTED["prepare"])
    return gen, root / "data"


@pytest.mark.parametrize("run", sorted(EXPECTED["runs"]))
def test_steps_match_hf_trainer(run, golden_data, run_bertforge, tmp_path):
    gen, data = golden_data
    expected = EXPECTED["runs"][run]
    fill = {"{data}": str(data), "{model}": str(GOLDEN), "{output_dir}": str(tmp_path / "run")}
    run_bertforge(*[fill.get(a, a) for a in expected["pretrain"]], "--dump_batches", tmp_path / "batches")
    assert gen.batch_digest(tmp_path / "batches") == expected["batches_sha256"], (
        "bertforge's batches differ from those the golden was made on: regenerate with tools/gen_golden/trainer_steps.py")
    logged = [e for e in json.loads((tmp_path / "run" / "trainer_state.json").read_text())["log_history"] if "loss" in e]
    hf = expected["steps"]
    assert [e["step"] for e in logged] == [e["step"] for e in hf]
    assert [e["epoch"] for e in logged] == pytest.approx([e["epoch"] for e in hf], rel=1e-12)
    for key in ["loss", "grad_norm", "learning_rate"]:
        assert [e[key] for e in logged] == pytest.approx([e[key] for e in hf], rel=TOLERANCE[key], abs=0), key
    final = load_file(tmp_path / "run" / "model.safetensors")
    for name, want in load_file(GOLDEN / f"final-{run}.safetensors").items():
        got = final[name]
        bad = ((got - want).abs() > TOLERANCE["weights"] * (1 + want.abs())).sum().item()
        assert bad == 0, f"{name}: {bad} weights differ (max {(got - want).abs().max().item():.3g})"
    if run != "per_epoch":  # the run exercises what it claims to: warm-up, then decay; clipping active at some steps
        rates = [e["learning_rate"] for e in hf]
        assert rates[:5] == sorted(rates[:5]) and rates[5:] == sorted(rates[5:], reverse=True)
        assert any(e["grad_norm"] > 0.5 for e in hf)
    else:
        assert expected["batches_per_epoch"] % 2 == 1 and [e["step"] for e in hf] == [
            s * (expected["batches_per_epoch"] + 1) // 2 for s in (1, 2, 3)]
