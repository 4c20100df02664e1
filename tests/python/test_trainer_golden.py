"""bertforge's Trainer step by step against HF Trainer, as llm.c checks its step against PyTorch.

tests/golden/trainer_steps/ (written by tools/gen_golden/trainer_steps.py, which says how) holds what HF Trainer
logged for 20 optimizer steps (gradient accumulation 2, clipping at 0.5, linear warm-up, AdamW with weight decay,
dropout 0) on the micro-batches `bertforge pretrain` trains on. Here bertforge runs the same command again: its
batches must be those (same SHA-256, or the data path changed and the golden must be regenerated) and every
step's logged loss, grad_norm and learning_rate must match HF's within TOLERANCE (fp32 on CPU).
"""
import importlib.util
import json
import pathlib

import pytest

SOURCE_DIR = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = SOURCE_DIR / "tests" / "golden" / "trainer_steps"
# (relative, absolute). Measured here (transformers 5.24, torch 2.11, fp32, one thread): loss 1.1e-7 and
# grad_norm 1.1e-7 relative at worst over the 20 steps, learning_rate exact; the margin is for other CPUs' kernels.
TOLERANCE = {"loss": (1e-5, 0.0), "grad_norm": (1e-5, 0.0), "learning_rate": (1e-12, 0.0)}


def generator():
    spec = importlib.util.spec_from_file_location("trainer_steps", SOURCE_DIR / "tools" / "gen_golden" / "trainer_steps.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_steps_match_hf_trainer(tmp_path, run_bertforge):
    gen = generator()
    expected = json.loads((GOLDEN / "expected.json").read_text())
    text = gen.corpus(tmp_path / "genesis.txt")
    run_bertforge("prepare", text, "--vocab", GOLDEN / "vocab.txt", "-o", tmp_path / "data", *expected["prepare"])
    fill = {"{data}": str(tmp_path / "data"), "{model}": str(GOLDEN), "{output_dir}": str(tmp_path / "run")}
    run_bertforge(*[fill.get(a, a) for a in expected["pretrain"]], "--dump_batches", tmp_path / "batches")
    assert gen.batch_digest(tmp_path / "batches") == expected["batches_sha256"], (
        "bertforge's batches differ from those the golden was made on: regenerate with tools/gen_golden/trainer_steps.py")
    logged = [e for e in json.loads((tmp_path / "run" / "trainer_state.json").read_text())["log_history"] if "loss" in e]
    hf = expected["steps"]
    assert [e["step"] for e in logged] == [e["step"] for e in hf] == list(range(1, 21))
    for key, (rel, abs_) in TOLERANCE.items():
        ours, theirs = [e[key] for e in logged], [e[key] for e in hf]
        assert ours == pytest.approx(theirs, rel=rel, abs=abs_), key
    # The run exercises what it claims to: warm-up, then decay; clipping active at some steps.
    rates = [e["learning_rate"] for e in hf]
    assert rates[:5] == sorted(rates[:5]) and rates[5:] == sorted(rates[5:], reverse=True)
    assert any(e["grad_norm"] > 0.5 for e in hf)
