"""bertforge speaks with one voice: every bad input ends in one line `bertforge <command>: <file, line or option>:
what is wrong (what to do)`, with exit status 1 (bad input, failure), 2 (usage: nothing was done) or 128 + N
(signal; tests/train/trainer_process_test.cpp). The cases are the rows of docs/reliability.md.

Models and data are test_infer's tiny random BERT over bert-base-cased's vocabulary and test_evaluate's 200
lines of WikiText-103, so each command runs in a second or two.
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import tempfile

from safetensors.torch import load_file, save_file

from test_evaluate import prepared  # noqa: F401 (fixture)
from test_infer import bf_dir, hf_dir  # noqa: F401 (fixtures)

VOCAB = "vocab/bert-base-cased/vocab.txt"
STYLE = re.compile(r"^bertforge( [a-z-]+)?: \S.*$")


def one_line(proc, status, *needles):
    """The process failed with `status` and said so in one line of the house style holding every needle."""
    assert proc.returncode == status, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert STYLE.match(lines[0]), lines[0]
    assert "error:" not in lines[0] and "[json.exception" not in lines[0] and "filesystem error" not in lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_usage_errors_are_one_line_exit_2(run_bertforge, shared_data, bf_dir, prepared, tmp_path):
    hw = os.cpu_count()
    one_line(run_bertforge("version", "--threads", "100000", check=False), 2,
             f"--threads: 100000 is out of range (must be in [0, {4 * hw}])")
    line = one_line(run_bertforge("launch", "--nproc-per-node", "0", "--", "version", check=False), 2,
                    "bertforge launch: --nproc-per-node: 0 is out of range (must be > 0)", "bertforge launch --help")
    assert len(line) < 120, line  # CLI11 printed DBL_MAX in 309 digits
    one_line(run_bertforge("frobnicate", check=False), 2, "'frobnicate' is not a bertforge command (one of: ")
    one_line(run_bertforge("tokenize", "--vocab", shared_data(VOCAB), "--frob", check=False), 2,
             "bertforge tokenize: --frob: not expected")
    one_line(run_bertforge("tokenize", "--vocab", shared_data(VOCAB), "--max-length", "x", check=False), 2,
             "bertforge tokenize: --max-length:", "'x'")
    one_line(run_bertforge("evaluate", "--dataset", prepared, check=False), 2, "bertforge evaluate: --model: required")
    one_line(run_bertforge("evaluate", "--model", bf_dir, "--dataset", prepared, "--batch-size", "0", check=False), 2,
             "--per_device_eval_batch_size: 0 is out of range (must be > 0)")  # HF's name for --batch-size

    # pretrain: refused before any file is read (the data folder does not even exist)
    base = ["pretrain", "--train_data", tmp_path / "nothing", "--output_dir", tmp_path / "out", "--model", "tiny"]
    for option, value, message in [
            ("--warmup_ratio", "2", "--warmup_ratio: 2 is out of range (must be in [0, 1])"),
            ("--adam_beta1", "1", "--adam_beta1: 1 is out of range (must be in [0, 1))"),
            ("--adam_beta2", "-0.1", "--adam_beta2: -0.1 is out of range (must be in [0, 1))"),
            ("--save_steps", "0", "--save_steps: 0 is out of range (must be > 0)"),
            ("--learning_rate", "nan", "--learning_rate: nan is not a finite number"),
            ("--eval_strategy", "steps", "--eval_strategy: 'steps' needs evaluation data (give --eval_data")]:
        one_line(run_bertforge(*base, option, value, check=False), 2, "bertforge pretrain: " + message)
    assert not (tmp_path / "out").exists()

    # prepare: refused before the corpus is read or the output folder made
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("One sentence here. Another one there.\n\nA second document. It ends.\n")
    base = ["prepare", corpus, "--vocab", shared_data(VOCAB), "-o", tmp_path / "shards"]
    for option, value, message in [
            ("--short_seq_prob", "1.5", "--short_seq_prob: 1.5 is out of range (must be in [0, 1])"),
            ("--short_seq_prob", "nan", "--short_seq_prob: nan is not a finite number"),
            ("--chunk-mb", "0", "--chunk-mb: 0 is out of range (must be in (0, "),
            ("--chunk-mb", "-1", "--chunk-mb: -1 is out of range"),
            ("--dupe_factor", "2000", "--dupe_factor: 2000 is out of range (must be in [1, 1024])")]:
        one_line(run_bertforge(*base, option, value, check=False), 2, "bertforge prepare: " + message)
    # 1024 rounds of a corpus too big for this machine's memory: refused at once, not after minutes
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:
        f.truncate(1 << 30)  # sparse: a GB of NUL bytes takes no disk
    one_line(run_bertforge("prepare", big, "--vocab", shared_data(VOCAB), "-o", tmp_path / "shards",
                           "--dupe_factor", "1024", "--chunk-mb", "1000", check=False), 2,
             "--dupe_factor: 1024 rounds over chunks of", "of memory, more than this machine's")
    assert not (tmp_path / "shards").exists()


def test_launch_checks_the_rank_command_once(run_bertforge):
    one_line(run_bertforge("launch", "--nproc-per-node", "3", "--", "frobnicate", check=False), 2,
             "'frobnicate' is not a bertforge command")
    one_line(run_bertforge("launch", "--nproc-per-node", "3", "--", "version", "--frob", check=False), 2,
             "bertforge version: --frob: not expected")


def test_inference_commands_refuse_what_they_cannot_do(run_bertforge, bf_dir):
    one_line(run_bertforge("mlm-demo", "--model", bf_dir, "--shown", "-5", "A short text.", check=False), 2,
             "bertforge mlm-demo: --shown: -5 is out of range (must be >= 1)")
    long_text = " ".join(["word"] * 100)  # the tiny model reads 64 positions
    for command in (["mlm-demo", "--model", bf_dir, long_text], ["fill-mask", "--model", bf_dir, long_text + " [MASK]"]):
        one_line(run_bertforge(*command, check=False), 1, "exceed the model's max_position_embeddings 64")
    one_line(run_bertforge("fill-mask", "--model", bf_dir, check=False), 2, "bertforge fill-mask: texts: none given")


def test_foreign_and_broken_models_are_refused(run_bertforge, bf_dir, prepared, tmp_path):
    gpt2 = tmp_path / "gpt2"
    shutil.copytree(bf_dir, gpt2)
    (gpt2 / "config.json").write_text('{"model_type": "gpt2", "n_embd": 32, "n_layer": 2, "vocab_size": 28996}')
    message = "config.json: model_type: 'gpt2' is not BERT"
    one_line(run_bertforge("import", gpt2, tmp_path / "imported", check=False), 1, "bertforge import: ", message)
    one_line(run_bertforge("fill-mask", "--model", gpt2, "A [MASK].", check=False), 1, message)
    one_line(run_bertforge("pretrain", "--model", gpt2, "--train_data", prepared, "--output_dir", tmp_path / "run",
                           "--max_steps", "1", check=False), 1, message)
    assert not (tmp_path / "imported").exists()

    weights = load_file(bf_dir / "model.safetensors")
    partial = tmp_path / "partial"
    shutil.copytree(bf_dir, partial)
    save_file({k: v for k, v in weights.items() if ".encoder." not in k}, partial / "model.safetensors")
    one_line(run_bertforge("fill-mask", "--model", partial, "A [MASK].", check=False), 1,
             "model.safetensors: lacks ", "not a BERT checkpoint of this config.json")

    nan = tmp_path / "nan"
    shutil.copytree(bf_dir, nan)
    weights["bert.encoder.layer.0.output.dense.weight"][0, 0] = float("nan")
    save_file(weights, nan / "model.safetensors")
    proc = run_bertforge("fill-mask", "--model", nan, "A [MASK].")
    assert proc.returncode == 0
    warnings = [line for line in proc.stderr.splitlines() if "NaN or Inf" in line]
    assert len(warnings) == 1 and warnings[0].startswith("bertforge fill-mask: warning: "), proc.stderr
    assert "bert.encoder.layer.0.output.dense.weight" in warnings[0]


def test_files_are_named_in_every_error(run_bertforge, bertforge_bin, shared_data, prepared, tmp_path):
    bad = tmp_path / "args.json"
    bad.write_text('{"learning_rate": 1e-3,\n "max_steps": oops}\n')
    one_line(run_bertforge("pretrain", "--config_file", bad, "--train_data", prepared, "--output_dir", tmp_path / "o",
                           check=False), 1, f"{bad}:2: not valid JSON (column ")
    folder = tmp_path / "texts"
    folder.mkdir()
    one_line(run_bertforge("prepare", folder, "--vocab", shared_data(VOCAB), "-o", tmp_path / "s", check=False), 1,
             f"bertforge prepare: {folder}: a folder, not a corpus file")
    one_line(run_bertforge("decode", "--vocab", shared_data(VOCAB), input="101 7 102\n5 -5 8\n", check=False), 1,
             "bertforge decode: <stdin>:2: negative token id -5")
    with open("/dev/full", "w") as full:  # every write fails with ENOSPC; a pipe in: no progress line
        proc = subprocess.run([bertforge_bin, "tokenize", "--vocab", shared_data(VOCAB)], input="Hello world.\n" * 1000,
                              stdout=full, stderr=subprocess.PIPE, text=True)
    one_line(proc, 1, "bertforge tokenize: <stdout>: write error")


def test_evaluate_reads_hf_datasets_as_pretrain_does(run_bertforge, bf_dir, prepared, tmp_path):
    hf = tmp_path / "hf"
    run_bertforge("prepare", prepared.parent / "wiki.txt", "--vocab", bf_dir, "-o", tmp_path / "again",
                  "--max-seq-length", "64", "--export-hf", hf)
    args = ["evaluate", "--model", bf_dir, "--batch-size", "8", "--json"]
    scratch = list(pathlib.Path(tempfile.gettempdir()).glob("bertforge-evaluate-*"))
    ours = json.loads(run_bertforge(*args, "--dataset", prepared).stdout)
    theirs = json.loads(run_bertforge(*args, "--dataset", hf).stdout)
    for key in ["eval_loss", "eval_mlm_loss", "eval_mlm_accuracy", "eval_nsp_accuracy", "eval_samples"]:
        assert ours[key] == theirs[key], key
    assert list(pathlib.Path(tempfile.gettempdir()).glob("bertforge-evaluate-*")) == scratch  # the import is removed
