"""`bertforge evaluate` against HF transformers: the MLM loss, NSP accuracy and top-1/top-5 accuracy of the batch
bertforge masked (written by --dump-batch) equal what HF's BertForPreTraining computes on it; runs repeat.
The model is test_infer's tiny random BERT over bert-base-cased's vocabulary, the data 200 lines of WikiText-103.
"""
import json
import math
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import BertConfig, BertForPreTraining

from test_infer import bf_dir, hf_dir, one_line_error  # noqa: F401 (fixtures)
from tolerance import loss_close, tolerance


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, shared_data, run_bertforge, bf_dir):
    """The first ~200 lines of WikiText-103's validation split, prepared with the model's vocabulary."""
    d = tmp_path_factory.mktemp("prepared")
    lines = shared_data("wikitext-103-raw/wiki.valid.raw").read_text(encoding="utf-8").splitlines(keepends=True)
    (d / "wiki.txt").write_text("".join(lines[:200]), encoding="utf-8")
    run_bertforge("prepare", d / "wiki.txt", "--vocab", bf_dir, "-o", d / "data", "--max-seq-length", "64")
    return d / "data"


def test_evaluate_mlm_loss_equals_hf_on_the_same_masked_batch(run_bertforge, bf_dir, hf_dir, prepared, tmp_path):
    batch_file = tmp_path / "batch.safetensors"
    metrics = json.loads(run_bertforge("evaluate", "--model", bf_dir, "--dataset", prepared, "--batch-size", "16",
                                       "--max-batches", "1", "--json", "--dump-batch", batch_file).stdout)
    batch = load_file(batch_file)
    model = BertForPreTraining.from_pretrained(hf_dir).eval()
    with torch.no_grad():
        out = model(**batch)
    logits = out.prediction_logits.view(-1, model.config.vocab_size)
    labels = batch["labels"].view(-1)
    mlm = torch.nn.functional.cross_entropy(logits, labels, ignore_index=-100).item()
    loss_close(metrics["eval_mlm_loss"], mlm, tolerance("cpu", "float32"), "eval_mlm_loss")
    loss_close(metrics["eval_loss"], out.loss.item(), tolerance("cpu", "float32"), "eval_loss")
    picked = labels != -100
    top5 = logits[picked].topk(5).indices
    assert metrics["eval_mlm_accuracy"] == pytest.approx((top5[:, 0] == labels[picked]).float().mean().item())
    assert metrics["eval_mlm_top5_accuracy"] == pytest.approx((top5 == labels[picked, None]).any(1).float().mean().item())
    nsp = (out.seq_relationship_logits.argmax(-1) == batch["next_sentence_label"]).float().mean().item()
    assert metrics["eval_nsp_accuracy"] == pytest.approx(nsp)
    assert metrics["eval_perplexity"] == pytest.approx(torch.tensor(mlm).exp().item(), rel=1e-5)
    assert metrics["eval_samples"] == 16 and metrics["eval_tokens_per_second"] > 0


def test_evaluate_is_repeatable_and_checks_the_vocabulary(run_bertforge, bf_dir, hf_dir, prepared, tmp_path):
    args = ["evaluate", "--model", bf_dir, "--dataset", prepared, "--batch-size", "8", "--json"]
    a, b = (json.loads(run_bertforge(*args).stdout) for _ in range(2))
    for key in ["eval_loss", "eval_mlm_loss", "eval_mlm_accuracy", "eval_mlm_top5_accuracy", "eval_nsp_accuracy"]:
        assert a[key] == b[key], key
    other = json.loads(run_bertforge(*args, "--seed", "7").stdout)
    assert other["eval_mlm_loss"] != a["eval_mlm_loss"]  # another seed, other masks
    small = tmp_path / "small"
    torch.manual_seed(0)
    BertForPreTraining(BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                  intermediate_size=64)).save_pretrained(small)
    one_line_error(run_bertforge("evaluate", "--model", small, "--dataset", prepared, check=False),
                   "28996 tokens", "vocab_size 100")


def test_evaluate_of_a_nan_model_prints_nan_as_python_writes_it(run_bertforge, bf_dir, prepared, tmp_path):
    """A NaN loss is NaN in --json (Python's json reads it back as nan) and in the table, never null."""
    nan = tmp_path / "nan"
    shutil.copytree(bf_dir, nan)
    weights = load_file(nan / "model.safetensors")
    weights["bert.encoder.layer.0.output.dense.weight"][0, 0] = float("nan")
    save_file(weights, nan / "model.safetensors")
    args = ["evaluate", "--model", nan, "--dataset", prepared, "--batch-size", "8", "--max-batches", "1"]
    proc = run_bertforge(*args, "--json")
    assert "null" not in proc.stdout
    assert math.isnan(json.loads(proc.stdout)["eval_loss"])
    table = dict(line.split(None, 1) for line in run_bertforge(*args).stdout.splitlines())
    assert table["eval_loss"].strip() == "NaN"
