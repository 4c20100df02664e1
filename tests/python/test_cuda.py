"""bertforge on CUDA: against HF on the same GPU and against itself on the CPU. Skipped visibly without a GPU
(every test here needs one); bench/gpu/run.sh runs this file on the GPU machine.

Tolerances come from tests/common/tolerance.json (the one table of every parity test, per device and dtype).
Determinism: dropout 0 and CUBLAS_WORKSPACE_CONFIG=:4096:8 (cuBLAS picks the same algorithms run to run); the
attention and embedding backward kernels may still add in another order, so runs on CUDA are compared with the
table's fp32 tolerances, not bit for bit.
"""
import json
import os

import pytest
import torch
from safetensors.torch import load_file

from test_model_parity import hf_folder, hf_run  # noqa: F401 (hf_folder: the same fixture)
from tolerance import TABLE, grads_close, loss_close, tolerance, values_close

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: the CUDA tests need a GPU")

DTYPES = {"fp32": "float32", "bf16": "bfloat16"}
ENV = {**os.environ, "CUBLAS_WORKSPACE_CONFIG": ":4096:8"}


def tol(precision, device="cuda"):
    return tolerance(device, DTYPES[precision])


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_logits_and_every_gradient_match_hf_on_the_same_gpu(hf_folder, run_bertforge, precision):
    """HF in fp32 on the GPU is the oracle for both precisions (as on the CPU): the table's cuda rows."""
    folder, model, batch = hf_folder
    out = folder / f"ours_cuda_{precision}.safetensors"
    run_bertforge("forward", "--model", folder, "--inputs", folder / "inputs.safetensors", "--output", out, "--grads",
                  "--device", "cuda", *(["--bf16"] if precision == "bf16" else []), env=ENV)
    ours = load_file(str(out))
    ref, grads = hf_run(model.cuda(), {k: v.cuda() for k, v in batch.items()})
    model.cpu()
    t = tol(precision)
    values_close(ours["prediction_logits"], ref.prediction_logits, t, "prediction_logits")
    values_close(ours["seq_relationship_logits"], ref.seq_relationship_logits, t, "seq_relationship_logits")
    loss_close(ours["loss"], ref.loss, t, "loss")
    grads_close(ours, {n: g.cpu() for n, g in grads.items()}, t)


@pytest.fixture(scope="module")
def tiny(shared_data, run_bertforge, tmp_path_factory):
    """The tiny BERT of tests/fixtures with its vocabulary, and WikiText lines prepared with it."""
    model = shared_data("tiny-bert")
    d = tmp_path_factory.mktemp("cuda_data")
    lines = shared_data("wikitext-103-raw/wiki.valid.raw").read_text(encoding="utf-8").splitlines()[:300]
    (d / "wiki.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run_bertforge("prepare", d / "wiki.txt", "--vocab", model, "-o", d / "data", "--max-seq-length", "64")
    return model, d / "data"


def test_fill_mask_on_cuda_equals_cpu(tiny, run_bertforge):
    model, _ = tiny
    texts = ["The capital of France is [MASK].", "He played the [MASK] in the orchestra for [MASK] years."]
    out = {}
    for device in ["cpu", "cuda"]:
        proc = run_bertforge("fill-mask", "--model", model, "--json", "--device", device, *texts, env=ENV)
        out[device] = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert len(out["cpu"]) == len(out["cuda"]) == len(texts)
    flat = lambda rows: [p for row in rows for mask in (row if isinstance(row[0], list) else [row]) for p in mask]
    cpu, cuda = flat(out["cpu"]), flat(out["cuda"])
    assert [p["token"] for p in cpu] == [p["token"] for p in cuda]
    values_close(torch.tensor([p["score"] for p in cuda]), torch.tensor([p["score"] for p in cpu]), tol("fp32"), "scores")


def test_evaluate_on_cuda_equals_cpu(tiny, run_bertforge):
    model, data = tiny
    metrics = {d: json.loads(run_bertforge("evaluate", "--model", model, "--dataset", data, "--json", "--device", d,
                                           env=ENV).stdout) for d in ["cpu", "cuda"]}
    for key in ["eval_loss", "eval_mlm_loss", "eval_perplexity"]:
        loss_close(metrics["cuda"][key], metrics["cpu"][key], tol("fp32"), key)
    for key in ["eval_samples", "eval_tokens"]:
        assert metrics["cuda"][key] == metrics["cpu"][key], key


def pretrain(run_bertforge, tiny, out, device, steps, *extra):
    model, data = tiny
    config = json.loads((model / "config.json").read_text())
    config.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    (out.parent / "no_dropout.json").write_text(json.dumps(config))
    run_bertforge("pretrain", "--model", out.parent / "no_dropout.json", "--tokenizer", model, "--train_data", data,
                  "--output_dir", out, "--device", device, "--max_steps", steps, "--per_device_train_batch_size", 8,
                  "--learning_rate", 1e-3, "--lr_scheduler_type", "constant", "--logging_steps", 1, "--save_steps", 3, "--seed", 7, "--quiet", *extra,
                  env=ENV)
    return {e["step"]: e["loss"] for e in map(json.loads, (out / "metrics.jsonl").read_text().splitlines())
            if "loss" in e}


def assert_losses_close(got, want, what):
    assert set(got) == set(want), what
    for step in want:
        # Each step compounds the previous ones' rounding: the table's fp32 loss tolerance, grown per step.
        grown = tol("fp32")["loss"] * TABLE["loss_growth_per_step"] * step
        loss_close(got[step], want[step], {"loss": grown}, f"{what} step {step}")


def test_training_steps_on_cuda_match_cpu(tiny, run_bertforge, tmp_path):
    cpu = pretrain(run_bertforge, tiny, tmp_path / "cpu", "cpu", 6)
    cuda = pretrain(run_bertforge, tiny, tmp_path / "cuda", "cuda", 6)
    assert_losses_close(cuda, cpu, "cuda vs cpu")


@pytest.mark.parametrize("first,then", [("cuda", "cpu"), ("cpu", "cuda"), ("cuda", "cuda")])
def test_checkpoint_resumes_across_devices(tiny, run_bertforge, tmp_path, first, then):
    whole = pretrain(run_bertforge, tiny, tmp_path / "whole", first, 6)
    part = tmp_path / "part"
    pretrain(run_bertforge, tiny, part, first, 3)
    resumed = pretrain(run_bertforge, tiny, part, then, 6, "--resume_from_checkpoint", part / "checkpoint-3")
    assert_losses_close({s: l for s, l in resumed.items() if s > 3}, {s: l for s, l in whole.items() if s > 3},
                        f"{first} -> {then}")
