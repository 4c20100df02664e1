"""BertForPreTraining parity with HF transformers (the oracle), both directions, through `bertforge forward`.

HF builds random-weight models and saves them; bertforge loads each folder, runs the same padded batch and
writes logits, losses and every parameter gradient; we compare. Then bertforge initialises and saves a model
and HF loads it without missing or unexpected keys and computes the same logits.
"""
import json
import os

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from transformers import BertConfig, BertForPreTraining, BertModel

from tolerance import grads_close, loss_close, tolerance, values_close

# The table's fp32 CPU row: HF parity in eval mode.
TOL = tolerance("cpu", "float32")

CONFIGS = {
    "tiny": dict(vocab_size=1000, hidden_size=128, num_hidden_layers=2, num_attention_heads=2,
                 intermediate_size=512, max_position_embeddings=64),
    "base_width_2_layers": dict(vocab_size=30522, hidden_size=768, num_hidden_layers=2, num_attention_heads=12,
                                intermediate_size=3072),
}


def make_batch(vocab, batch=3, seq=24, seed=0):
    g = torch.Generator().manual_seed(seed)
    lengths = [seq, seq - 7, seq // 2]
    ids = torch.randint(5, vocab, (batch, seq), generator=g)
    mask = torch.zeros(batch, seq, dtype=torch.long)
    types = torch.zeros(batch, seq, dtype=torch.long)
    labels = torch.full((batch, seq), -100, dtype=torch.long)
    for row, n in enumerate(lengths):
        mask[row, :n] = 1
        types[row, n // 2:n] = 1
        ids[row, n:] = 0  # pad_token_id
        picked = torch.rand(n, generator=g) < 0.2
        picked[1] = True  # at least one label per row
        labels[row, :n][picked] = torch.randint(0, vocab, (int(picked.sum()),), generator=g)
    nsp = torch.randint(0, 2, (batch,), generator=g)
    return dict(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels, next_sentence_label=nsp)


def hf_run(model, batch):
    model.eval()
    model.zero_grad()
    out = model(**batch)
    out.loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    return out, grads


@pytest.fixture(scope="module", params=list(CONFIGS))
def hf_folder(request, tmp_path_factory):
    torch.manual_seed(1)
    config = BertConfig(**CONFIGS[request.param])
    model = BertForPreTraining(config)
    folder = tmp_path_factory.mktemp(request.param)
    model.save_pretrained(folder)
    batch = make_batch(config.vocab_size)
    save_file(batch, str(folder / "inputs.safetensors"))
    return folder, model, batch


# Both libraries of the fp32 CPU linear layers (model/linear.h) are held to HF.
@pytest.mark.parametrize("gemm", ["aten", "onednn"])
@pytest.mark.parametrize("sparse", [False, True])
def test_hf_checkpoint_loads_and_matches(hf_folder, run_bertforge, sparse, gemm):
    folder, model, batch = hf_folder
    out_file = folder / f"ours_{sparse}_{gemm}.safetensors"
    run_bertforge("forward", "--model", folder, "--inputs", folder / "inputs.safetensors", "--output", out_file,
                  "--grads", *(["--sparse-mlm"] if sparse else []), env=dict(os.environ, BERTFORGE_CPU_GEMM=gemm))
    ours = load_file(str(out_file))
    ref, grads = hf_run(model, batch)
    if sparse:  # logits only at labelled positions, row-major
        values_close(ours["prediction_logits"], ref.prediction_logits[batch["labels"] != -100], TOL, "sparse")
    else:
        values_close(ours["prediction_logits"], ref.prediction_logits, TOL, "prediction_logits")
    values_close(ours["seq_relationship_logits"], ref.seq_relationship_logits, TOL, "seq_relationship")
    loss_close(ours["loss"], ref.loss, TOL, "loss")
    grads_close(ours, grads, TOL)


def test_bertforge_saves_hf_loads(hf_folder, run_bertforge, tmp_path):
    src, _, batch = hf_folder
    saved = tmp_path / "saved"
    config = json.loads((src / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps(config))
    out_file = tmp_path / "ours.safetensors"
    run_bertforge("forward", "--config", tmp_path / "config.json", "--seed", "7", "--save", saved,
                  "--inputs", src / "inputs.safetensors", "--output", out_file)
    with safe_open(str(saved / "model.safetensors"), "pt") as f:
        keys = set(f.keys())
        assert f.metadata() == {"format": "pt"}
    assert {"bert.embeddings.word_embeddings.weight", "cls.predictions.bias"} <= keys
    assert not any(k.startswith("cls.predictions.decoder") for k in keys)
    model, info = BertForPreTraining.from_pretrained(saved, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"], info
    assert json.loads((saved / "config.json").read_text())["hidden_size"] == config["hidden_size"]
    ours = load_file(str(out_file))
    model.eval()
    with torch.no_grad():
        ref = model(**batch)
    values_close(ours["prediction_logits"], ref.prediction_logits, TOL, "prediction_logits")
    values_close(ours["seq_relationship_logits"], ref.seq_relationship_logits, TOL, "seq_relationship")
    # HF initialisation: the padding row of the word embeddings is zero, LayerNorms are 1 and 0.
    assert model.bert.embeddings.word_embeddings.weight[0].abs().max() == 0
    assert torch.all(model.bert.embeddings.LayerNorm.weight == 1)


def test_shared_tiny_bert_hidden_states(shared_data, run_bertforge, tmp_path):
    folder = shared_data("tiny-bert")
    config = json.loads((folder / "config.json").read_text())
    batch = make_batch(config["vocab_size"], seq=20, seed=3)
    inputs = {k: batch[k] for k in ("input_ids", "token_type_ids", "attention_mask")}
    save_file(inputs, str(tmp_path / "inputs.safetensors"))
    proc = run_bertforge("forward", "--model", folder, "--inputs", tmp_path / "inputs.safetensors",
                         "--output", tmp_path / "ours.safetensors")
    # The folder is a BertModel without heads: they are initialised and named in the warning.
    assert "newly initialised" in proc.stderr and "cls.predictions.bias" in proc.stderr
    assert "bert.encoder" not in proc.stderr
    model = BertModel.from_pretrained(folder).eval()
    with torch.no_grad():
        ref = model(**inputs).last_hidden_state
    values_close(load_file(str(tmp_path / "ours.safetensors"))["last_hidden_state"], ref, TOL, "hidden")


def test_legacy_gamma_beta_names(hf_folder, run_bertforge, tmp_path):
    src, model, batch = hf_folder
    tensors = load_file(str(src / "model.safetensors"))
    renamed = {k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"): v
               for k, v in tensors.items()}
    save_file(renamed, str(tmp_path / "model.safetensors"), metadata={"format": "pt"})
    (tmp_path / "config.json").write_text((src / "config.json").read_text())
    proc = run_bertforge("forward", "--model", tmp_path, "--inputs", src / "inputs.safetensors",
                         "--output", tmp_path / "ours.safetensors")
    assert "warning" not in proc.stderr, proc.stderr
    model.eval()
    with torch.no_grad():
        ref = model(**batch)
    ours = load_file(str(tmp_path / "ours.safetensors"))
    values_close(ours["prediction_logits"], ref.prediction_logits, TOL, "prediction_logits")


def test_bf16_close_to_fp32(hf_folder, run_bertforge, tmp_path):
    """bf16 (activations in bf16 between the layers) against HF in fp32: the table's bf16 row."""
    src, model, batch = hf_folder
    tol = tolerance("cpu", "bfloat16")
    run_bertforge("forward", "--model", src, "--inputs", src / "inputs.safetensors", "--bf16",
                  "--grads", "--output", tmp_path / "bf16.safetensors")
    ours = load_file(str(tmp_path / "bf16.safetensors"))
    ref, grads = hf_run(model, batch)
    loss_close(ours["loss"], ref.loss.item(), tol, "bf16 loss")
    for name in ("seq_relationship_logits", "prediction_logits"):
        values_close(ours[name], getattr(ref, name).detach(), tol, f"bf16 {name}")
    grads_close(ours, grads, tol)
