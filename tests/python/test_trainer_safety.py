"""pretrain's safety nets seen from outside: non-finite steps (nan_policy) and the JSON that records them, read
by Python's json and HF's TrainerState; non-finite options refused; one run per output_dir.

BERTFORGE_FAULT_NONFINITE_STEPS=N makes the loss of global step N NaN (once), as a diverging run would.
"""
import json
import math
import os
import signal
import subprocess
import time

import pytest
from transformers import TrainerState

COMMON = ["--threads", "1", "--device", "cpu", "--per_device_train_batch_size", "8", "--logging_steps", "1",
          "--learning_rate", "1e-3", "--quiet"]


def pretrain_args(tiny_kjv, out, *extra):
    return ["pretrain", "--model", tiny_kjv / "model" / "config.json", "--train_data", tiny_kjv / "data",
            "--output_dir", out, *COMMON, *extra]


def faulty(step):
    return dict(os.environ, BERTFORGE_FAULT_NONFINITE_STEPS=str(step))


def test_skipped_nan_step_is_json_that_python_and_hf_read(tiny_kjv, run_bertforge, tmp_path):
    out = tmp_path / "run"
    # The filter off: the NaN loss itself is logged (with HF's filter, the default, the window's mean so far is).
    run_bertforge(*pretrain_args(tiny_kjv, out, "--max_steps", "4", "--save_steps", "2", "--nan_policy", "skip",
                                 "--logging_nan_inf_filter", "false"), env=faulty(2))
    for path in (out / "checkpoint-2" / "trainer_state.json", out / "trainer_state.json"):
        text = path.read_text()
        assert '"loss": NaN' in text
        history = json.loads(text)["log_history"]
        assert math.isnan(history[1]["loss"]) and history[1]["step"] == 2 and history[1]["skipped_steps"] == 1
        state = TrainerState.load_from_json(str(path))  # HF's own reader
        assert math.isnan(state.log_history[1]["loss"])
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert math.isnan(lines[1]["loss"]) and all(math.isfinite(x["loss"]) for x in lines if "loss" in x and x["step"] != 2)
    # bertforge reads its own NaN back: resume from the checkpoint holding it.
    run_bertforge(*pretrain_args(tiny_kjv, out, "--max_steps", "5", "--resume_from_checkpoint", "latest"))


def test_default_policy_stops_naming_the_step(tiny_kjv, run_bertforge, tmp_path):
    out = tmp_path / "run"
    proc = run_bertforge(*pretrain_args(tiny_kjv, out, "--max_steps", "4", "--save_steps", "2"), env=faulty(3),
                         check=False)
    assert proc.returncode == 1, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "step 3" in line]
    assert len(errors) == 1 and "the loss is nan" in errors[0] and "nothing saved after checkpoint-2" in errors[0]
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("checkpoint-")) == ["checkpoint-2"]
    assert not (out / "model.safetensors").exists()


@pytest.mark.parametrize("value", ["inf", "nan", "-inf"])
def test_non_finite_learning_rate_is_refused(tiny_kjv, run_bertforge, tmp_path, value):
    args = [a for a in pretrain_args(tiny_kjv, tmp_path / "run", "--max_steps", "1")
            if a not in ("--learning_rate", "1e-3")]
    args.append(f"--learning_rate={value}")  # "=": CLI11 would take a bare -inf for an option
    proc = run_bertforge(*args, check=False)
    assert proc.returncode == 2 and f"--learning_rate: {value} is not a finite number" in proc.stderr, proc.stderr
    assert proc.stderr.count("\n") == 1


def test_second_run_into_one_output_dir_is_refused(tiny_kjv, run_bertforge, bertforge_bin, tmp_path):
    out = tmp_path / "run"
    first = subprocess.Popen([bertforge_bin, *map(str, pretrain_args(tiny_kjv, out, "--max_steps", "100000",
                                                                     "--save_strategy", "no"))],
                             stderr=subprocess.PIPE, text=True)
    try:
        while not (out / "bertforge.lock").exists() or not (out / "bertforge.lock").read_text():
            assert first.poll() is None, first.stderr.read()
            time.sleep(0.1)
        proc = run_bertforge(*pretrain_args(tiny_kjv, out, "--max_steps", "1"), check=False)
        assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
        assert f"{out}: in use by pid {first.pid} on host " in proc.stderr, proc.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=120)
    assert not (out / "bertforge.lock").exists()
    # The lock of a run killed outright is taken over by the next run, which says so.
    (out / "bertforge.lock").write_text(f"{first.pid} {os.uname().nodename}\n")
    proc = run_bertforge(*pretrain_args(tiny_kjv, out, "--max_steps", "1", "--overwrite_output_dir"))
    assert f"took over the lock of pid {first.pid}" in proc.stderr


def test_flipped_byte_in_weights_resumes_from_the_previous_checkpoint(tiny_kjv, run_bertforge, tmp_path):
    out = tmp_path / "run"
    run_bertforge(*pretrain_args(tiny_kjv, out, "--max_steps", "4", "--save_steps", "2"))
    weights = out / "checkpoint-4" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-64] ^= 0x04
    weights.write_bytes(bytes(data))
    proc = run_bertforge(*pretrain_args(tiny_kjv, out, "--max_steps", "5", "--resume_from_checkpoint", "latest"))
    assert f"{weights}: checksum differs" in proc.stderr and "checkpoint-2, the newest checkpoint that verifies" \
        in proc.stderr, proc.stderr
    assert TrainerState.load_from_json(str(out / "trainer_state.json")).global_step == 5
