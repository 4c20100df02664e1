"""bertforge pretrain against Hugging Face: HF loads bertforge checkpoints (model and TrainerState), bertforge
continues from an HF Trainer checkpoint, learning rates follow transformers' schedules, bad input fails
clearly without losing a checkpoint, torchrun launches data-parallel runs.

Data: the first chapters of the KJV (Debian bible-kjv, the embedded corpus) prepared with bert-base-uncased's
vocabulary; a 2-layer hidden-32 model, so every run takes seconds.
"""
import json
import os
import pathlib
import resource
import shutil
import signal
import socket
import subprocess
import sys

import pytest
import torch
import transformers
from safetensors.torch import load_file
from transformers import BertConfig, BertForPreTraining, TrainerState

from tiny import TINY, VOCAB
from tolerance import tolerance, values_close

COMMON = ["--threads", "1", "--device", "cpu", "--per_device_train_batch_size", "8", "--logging_steps", "1",
          "--learning_rate", "1e-3"]


def pretrain(run_bertforge, tiny_kjv, out, *extra, check=True, **kw):
    return run_bertforge("pretrain", "--model", tiny_kjv / "model" / "config.json", "--train_data", tiny_kjv / "data",
                         "--output_dir", out, *COMMON, *extra, check=check, **kw)


def test_hf_reads_bertforge_checkpoint(tiny_kjv, run_bertforge, tmp_path):
    out = tmp_path / "run"
    pretrain(run_bertforge, tiny_kjv, out, "--eval_data", tiny_kjv / "data", "--max_steps", "6", "--save_steps", "3",
             "--eval_strategy", "steps", "--eval_steps", "3")
    ckpt = out / "checkpoint-6"
    model, info = BertForPreTraining.from_pretrained(ckpt, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    saved = load_file(ckpt / "model.safetensors")
    state = model.state_dict()
    for name, tensor in saved.items():
        assert torch.equal(state[name], tensor), name
    trainer_state = TrainerState.load_from_json(str(ckpt / "trainer_state.json"))  # TypeError on unknown keys
    assert trainer_state.global_step == 6 and trainer_state.max_steps == 6
    losses = [e for e in trainer_state.log_history if "loss" in e]
    evals = [e for e in trainer_state.log_history if "eval_loss" in e]
    assert [e["step"] for e in losses] == [1, 2, 3, 4, 5, 6]
    assert [e["step"] for e in evals] == [3, 6]
    for key in ["eval_mlm_loss", "eval_perplexity", "eval_mlm_accuracy", "eval_nsp_accuracy"]:
        assert key in evals[-1]
    assert evals[-1]["eval_perplexity"] == pytest.approx(torch.tensor(evals[-1]["eval_mlm_loss"]).exp().item(), rel=1e-5)
    args = json.loads((ckpt / "training_args.json").read_text())
    transformers.TrainingArguments(**{k: v for k, v in args.items()
                                      if k in transformers.TrainingArguments.__dataclass_fields__})


@pytest.mark.parametrize("kind", ["linear", "cosine", "constant", "constant_with_warmup", "polynomial"])
def test_learning_rates_follow_transformers_schedules(tiny_kjv, run_bertforge, tmp_path, kind):
    pretrain(run_bertforge, tiny_kjv, tmp_path / kind, "--max_steps", "7", "--warmup_steps", "2",
             "--lr_scheduler_type", kind, "--save_strategy", "no")
    logged = [e["learning_rate"] for e in json.loads((tmp_path / kind / "trainer_state.json").read_text())["log_history"]
              if "loss" in e]
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1e-3)
    sched = transformers.get_scheduler(kind, opt, num_warmup_steps=2, num_training_steps=7)
    want = []
    for _ in range(7):
        opt.step()
        want.append(sched.get_last_lr()[0])  # what HF Trainer 5 logs: the rate the step used
        sched.step()
    assert logged == want


TOKENIZER_FILES = ["vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]
TEXTS = ["In the beginning God created the heaven and the earth.", "Naïve Ünïcode, 東京 and [MASK] tokens!"]


def test_checkpoints_carry_the_tokenizer(tiny_kjv, run_bertforge, shared_data, tmp_path):
    """Without --tokenizer, pretrain takes the one prepare wrote beside the data (here lower-cased on the
    command line, which the saved files must keep) and saves it with every checkpoint and the final model."""
    data = tmp_path / "lower"
    run_bertforge("prepare", tiny_kjv / "kjv.txt", "--vocab", shared_data(VOCAB), "--lower-case", "-o", data,
                  "--threads", "1", "--max_seq_length", "64")
    out = tmp_path / "run"
    run_bertforge("pretrain", "--model", tiny_kjv / "model" / "config.json", "--train_data", data, "--output_dir", out,
                  *COMMON, "--max_steps", "2", "--save_steps", "1", "--save_total_limit", "1")
    original = transformers.BertTokenizerFast(str(shared_data(VOCAB)), do_lower_case=True)
    for folder in [out / "checkpoint-2", out]:
        for name in TOKENIZER_FILES:
            assert (folder / name).exists(), folder / name
        loaded = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
        assert loaded(TEXTS)["input_ids"] == original(TEXTS)["input_ids"]
        assert loaded.mask_token == "[MASK]" and loaded.do_lower_case
    filled = run_bertforge("fill-mask", "--model", out / "checkpoint-2", "--json", "--top-k", "3",
                           "And God said, Let there be [MASK].")
    assert len(json.loads(filled.stdout.splitlines()[0])) == 3
    run_bertforge("export", "--model", out / "checkpoint-2", tmp_path / "exported")
    exported = transformers.AutoTokenizer.from_pretrained(tmp_path / "exported", local_files_only=True)
    assert exported(TEXTS)["input_ids"] == original(TEXTS)["input_ids"]


def test_a_tokenizer_of_another_vocabulary_is_refused(tiny_kjv, run_bertforge, shared_data, tmp_path):
    proc = pretrain(run_bertforge, tiny_kjv, tmp_path / "run", "--tokenizer", shared_data("vocab/bert-base-cased"),
                    "--max_steps", "1", check=False)
    assert proc.returncode == 1
    assert "bert-base-cased" in proc.stderr and "not the vocabulary" in proc.stderr
    assert not (tmp_path / "run" / "checkpoint-1").exists()


def test_continue_from_hf_trainer_checkpoint(tiny_kjv, run_bertforge, tmp_path):
    """An HF Trainer checkpoint continues with HF's weights and HF's AdamW moments (its optimizer.pt): bertforge's
    first step gives the weights torch's AdamW gives from HF's saved state on the same batch, and without that
    optimizer.pt (fresh moments) the step lands elsewhere."""
    torch.manual_seed(0)
    config = BertConfig(**TINY, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)  # one batch, one loss
    rows = [{"input_ids": [101] + list(range(2000, 2010)) + [102] + list(range(3000, 3005)) + [102],
             "token_type_ids": [0] * 12 + [1] * 6, "attention_mask": [1] * 18, "labels": [-100] * 18,
             "next_sentence_label": i % 2} for i in range(8)]
    for r in rows:
        r["labels"][3] = r["input_ids"][3]
    args = transformers.TrainingArguments(output_dir=str(tmp_path / "hf"), max_steps=2, save_steps=2,
                                          per_device_train_batch_size=4, report_to=[], use_cpu=True)
    transformers.Trainer(model=BertForPreTraining(config), args=args, train_dataset=rows).train()
    hf_ckpt = tmp_path / "hf" / "checkpoint-2"
    fresh = tmp_path / "without-optimizer"
    shutil.copytree(hf_ckpt, fresh, ignore=shutil.ignore_patterns("optimizer.pt"))

    def continue_from(model, out):
        proc = run_bertforge("pretrain", "--model", model, "--train_data", tiny_kjv / "data", "--output_dir", out,
                             *COMMON, "--max_steps", "1", "--dump_batches", out / "batches")
        assert "missing" not in proc.stderr.lower()
        return proc, load_file(out / "checkpoint-1" / "model.safetensors")

    proc, ours = continue_from(hf_ckpt, tmp_path / "continued")
    assert "continuing the optimizer state" in proc.stderr and "PyTorch step 2" in proc.stderr
    _, from_fresh = continue_from(fresh, tmp_path / "fresh")

    # torch's AdamW, as HF Trainer builds it, from HF's optimizer.pt: one step on bertforge's batch at its rate
    reference = BertForPreTraining.from_pretrained(hf_ckpt)
    reference.train()
    batch = load_file(next((tmp_path / "continued" / "batches").glob("*.safetensors")))
    reference(**batch).loss.backward()
    optimizer = transformers.Trainer(model=reference, args=args).create_optimizer()
    optimizer.load_state_dict(torch.load(hf_ckpt / "optimizer.pt", weights_only=True))
    lr = next(e for e in map(json.loads, (tmp_path / "continued" / "metrics.jsonl").read_text().splitlines())
              if "loss" in e)["learning_rate"]
    for group in optimizer.param_groups:
        group["lr"] = lr
    torch.nn.utils.clip_grad_norm_(reference.parameters(), args.max_grad_norm)  # both sides' default, 1.0
    optimizer.step()
    t = tolerance("cpu", "float32")
    compared = {n: p.detach() for n, p in reference.named_parameters()}
    for name, want in compared.items():
        values_close(ours[name], want, t, name)
    moved = [n for n, want in compared.items()
             if ((from_fresh[n] - want).abs() > t["values"] * (1 + want.abs())).any()]
    assert moved, "fresh moments give the same step: the test cannot tell HF's moments were used"


def test_unknown_option_is_named(tiny_kjv, run_bertforge, tmp_path):
    proc = pretrain(run_bertforge, tiny_kjv, tmp_path / "x", "--learning_rat", "1", check=False)
    assert proc.returncode == 2 and "--learning_rat" in proc.stderr
    cfg = tmp_path / "args.json"
    cfg.write_text(json.dumps({"output_dir": str(tmp_path / "x"), "no_such_option": 1}))
    proc = pretrain(run_bertforge, tiny_kjv, tmp_path / "x", "--config_file", cfg, check=False)
    assert proc.returncode == 1 and "no_such_option" in proc.stderr and str(cfg) in proc.stderr


def test_vocab_mismatch_and_unwritable_output_dir(tiny_kjv, run_bertforge, tmp_path):
    BertConfig(**{**TINY, "vocab_size": 1000}).save_pretrained(tmp_path / "small")
    proc = run_bertforge("pretrain", "--model", tmp_path / "small" / "config.json", "--train_data", tiny_kjv / "data",
                         "--output_dir", tmp_path / "out", *COMMON, "--max_steps", "2", check=False)
    assert proc.returncode == 1 and "30522" in proc.stderr and "1000" in proc.stderr
    assert not (tmp_path / "out" / "checkpoint-1").exists()
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = pretrain(run_bertforge, tiny_kjv, blocker / "out", "--max_steps", "2", check=False)
    assert proc.returncode == 1 and str(blocker / "out") in proc.stderr


def _limited_disk(path, size):
    """A size-limited tmpfs at path when mountable, else None (the caller limits file size instead)."""
    path.mkdir()
    if os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                                            capture_output=True).returncode == 0:
        return path
    return None


def test_full_disk_keeps_previous_checkpoint(tiny_kjv, run_bertforge, tmp_path):
    probe = tmp_path / "probe"
    pretrain(run_bertforge, tiny_kjv, probe, "--max_steps", "1")
    one = sum(f.stat().st_size for f in (probe / "checkpoint-1").iterdir())
    disk = _limited_disk(tmp_path / "disk", one * 3 // 2 + 64 * 1024)
    out = (disk or tmp_path) / "run"

    def limit():  # no tmpfs: a file-size limit makes the large write fail the same way
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (one // 2, one // 2))

    try:
        proc = pretrain(run_bertforge, tiny_kjv, out, "--max_steps", "4", "--save_steps", "1", check=False,
                        preexec_fn=None if disk else limit)
        if disk:
            assert proc.returncode == 1, proc.stderr
            assert "disk full" in proc.stderr or "No space" in proc.stderr, proc.stderr
            assert (out / "checkpoint-1" / "model.safetensors").exists()
            TrainerState.load_from_json(str(out / "checkpoint-1" / "trainer_state.json"))
            assert not [p for p in out.iterdir() if p.name.startswith("tmp-")]
        else:
            assert proc.returncode == 1 and "checkpoint-1" in proc.stderr
            assert not (out / "checkpoint-1").exists()
    finally:
        if disk:
            subprocess.run(["umount", str(disk)], check=False)


def test_wrong_dataset_columns(tiny_kjv, run_bertforge, shared_data, tmp_path):
    import datasets
    datasets.Dataset.from_dict({"text": ["In the beginning.", "And the earth."]}).save_to_disk(str(tmp_path / "text"))
    datasets.Dataset.from_dict({"input_ids": [[101, 50000, 102]], "token_type_ids": [[0, 0, 0]],
                                "attention_mask": [[1, 1, 1]], "next_sentence_label": [0]}).save_to_disk(
        str(tmp_path / "outside"))  # an id beyond the 30522-token vocabulary
    for name in ["text", "outside"]:
        proc = run_bertforge("pretrain", "--model", tiny_kjv / "model" / "config.json", "--train_data", tmp_path / name,
                             "--tokenizer", shared_data(VOCAB), "--output_dir", tmp_path / f"out-{name}", *COMMON,
                             "--max_steps", "1", check=False)
        assert proc.returncode == 1 and str(tmp_path / name) in proc.stderr, proc.stderr
        assert not (tmp_path / f"out-{name}" / "checkpoint-1").exists()


@pytest.mark.parametrize("ranks", [1, 2])
def test_trains_on_the_reference_hf_dataset(run_bertforge, shared_data, tmp_path, ranks):
    """With 2 ranks, rank 0 imports the HF dataset while the other waits, then both train on it."""
    BertConfig(**{**TINY, "vocab_size": 28996}).save_pretrained(tmp_path / "model")
    launch = [] if ranks == 1 else ["launch", "--nproc-per-node", ranks, "--master-port", _free_port(), "--"]
    run_bertforge(*launch, "pretrain", "--model", tmp_path / "model" / "config.json", "--train_data",
                  shared_data("rocm-blog/wikiTokenizedValid.hf"), "--tokenizer",
                  shared_data("vocab/bert-base-cased/vocab.txt"), "--output_dir", tmp_path / "out", *COMMON,
                  "--max_steps", "3")
    state = TrainerState.load_from_json(str(tmp_path / "out" / "checkpoint-3" / "trainer_state.json"))
    assert state.global_step == 3
    manifest = json.loads((tmp_path / "out" / "prepared" / "wikiTokenizedValid.hf" / "manifest.json").read_text())
    assert manifest["vocab_size"] == 28996


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_torchrun_launches_the_same_run_as_bertforge_launch(tiny_kjv, bertforge_bin, tmp_path):
    """torchrun from the venv (its variables, its agent store) runs 2 ranks exactly as `bertforge launch`; only
    rank 0 reports to TensorBoard."""
    BertConfig(**TINY, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0).save_pretrained(tmp_path / "model")
    args = ["pretrain", "--model", tmp_path / "model" / "config.json", "--train_data", tiny_kjv / "data",
            "--threads", "1", "--device", "cpu", "--per_device_train_batch_size", "4", "--logging_steps", "1",
            "--learning_rate", "1e-3", "--max_steps", "4", "--save_steps", "4", "--verify_parameters",
            "--report_to", "tensorboard"]
    launchers = {
        "launch": [bertforge_bin, "launch", "--nproc-per-node", "2", "--master-port", _free_port(), "--"],
        "torchrun": [pathlib.Path(sys.executable).with_name("torchrun"), "--nproc-per-node", "2",
                     "--master-port", _free_port(), "--no-python", bertforge_bin],
    }
    for name, launcher in launchers.items():
        cmd = [*map(str, launcher), *map(str, args), "--output_dir", str(tmp_path / name)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"{name}: {proc.stderr[-3000:]}"
    logs = {name: [json.loads(line) for line in (tmp_path / name / "metrics.jsonl").read_text().splitlines()]
            for name in launchers}
    losses = {name: [e["loss"] for e in log if "loss" in e] for name, log in logs.items()}
    assert len(losses["launch"]) == 4 and losses["torchrun"] == losses["launch"]
    for name in launchers:  # rank 0 alone writes TensorBoard events
        assert len(list((tmp_path / name / "runs").glob("*/events.out.tfevents.*"))) == 1, name
    a = load_file(tmp_path / "launch" / "checkpoint-4" / "model.safetensors")
    b = load_file(tmp_path / "torchrun" / "checkpoint-4" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
