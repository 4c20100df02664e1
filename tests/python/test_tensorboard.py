"""`--report_to tensorboard` (HF's option): event files under output_dir/runs/<Mon DD_HH-MM-SS>_<host>/ (HF's
default_logdir) that TensorBoard's own EventAccumulator reads back, with HF TensorBoardCallback's tags
(train/loss, train/learning_rate, train/grad_norm, eval/<metric>, the end-of-run train/train_runtime...)
and per-window throughput; every value is the one in trainer_state.json's log history (as float32).
"""
import json
import os
import re
import socket

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def pretrain(run_bertforge, tiny_kjv, out, *extra, **kw):
    return run_bertforge("pretrain", "--model", tiny_kjv / "model" / "config.json", "--train_data", tiny_kjv / "data",
                         "--eval_data", tiny_kjv / "data", "--output_dir", out, "--threads", "1", "--device", "cpu",
                         "--per_device_train_batch_size", "4", "--logging_steps", "1", "--max_steps", "4",
                         "--eval_strategy", "steps", "--eval_steps", "2", "--save_strategy", "no", *extra, **kw)


def scalars(folder):
    acc = EventAccumulator(str(folder))
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_events_hold_what_the_log_history_holds(tiny_kjv, run_bertforge, tmp_path):
    out = tmp_path / "run"
    pretrain(run_bertforge, tiny_kjv, out, "--report_to", "tensorboard")
    runs = list((out / "runs").iterdir())
    assert len(runs) == 1 and re.fullmatch(r"[A-Z][a-z]{2}\d{2}_\d{2}-\d{2}-\d{2}_" + re.escape(socket.gethostname()),
                                           runs[0].name), runs
    assert len(list(runs[0].glob("events.out.tfevents.*"))) == 1
    got = scalars(runs[0])
    history = json.loads((out / "trainer_state.json").read_text())["log_history"]
    expected = {}
    for entry in history:
        for key, value in entry.items():
            if key != "step":
                tag = "eval/" + key[5:] if key.startswith("eval_") else "train/" + key
                expected.setdefault(tag, []).append((entry["step"], value))
    for tag in ["train/loss", "train/learning_rate", "train/grad_norm", "eval/loss", "eval/mlm_accuracy",
                "eval/perplexity", "train/train_runtime", "train/train_samples_per_second"]:
        assert tag in expected, tag
    for tag, points in expected.items():
        assert [s for s, _ in got[tag]] == [s for s, _ in points], tag
        assert [v for _, v in got[tag]] == pytest.approx([v for _, v in points], rel=1e-6), tag
    assert [s for s, _ in got["train/loss"]] == [1, 2, 3, 4]
    for tag in ["train/samples_per_second", "train/tokens_per_second"]:
        assert [s for s, _ in got[tag]] == [1, 2, 3, 4] and all(v > 0 for _, v in got[tag]), tag


def test_logging_dir_from_the_environment_and_none_by_default(tiny_kjv, run_bertforge, tmp_path):
    pretrain(run_bertforge, tiny_kjv, tmp_path / "default")
    assert not (tmp_path / "default" / "runs").exists()
    pretrain(run_bertforge, tiny_kjv, tmp_path / "env", "--report_to", "all",
             env={**os.environ, "TENSORBOARD_LOGGING_DIR": str(tmp_path / "tb")})
    assert not (tmp_path / "env" / "runs").exists()
    assert [s for s, _ in scalars(tmp_path / "tb")["train/loss"]] == [1, 2, 3, 4]


def test_unsupported_integration_is_named(tiny_kjv, run_bertforge, tmp_path):
    proc = pretrain(run_bertforge, tiny_kjv, tmp_path / "run", "--report_to", "wandb", check=False)
    assert proc.returncode == 2 and "report_to" in proc.stderr and "wandb" in proc.stderr  # a usage error
