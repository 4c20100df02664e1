"""BertForSequenceClassification and BertForTokenClassification parity with HF transformers (the oracle),
through `bertforge forward`: HF builds a random-weight model of each head and problem type and saves it;
bertforge loads the folder, runs the same padded batch and writes logits, loss and every parameter gradient.
Then a folder fine-tuned by bertforge is loaded by HF's pipeline, which gives the scores `bertforge classify`
prints.
"""
import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import BertConfig, BertForSequenceClassification, BertForTokenClassification

from tolerance import grads_close, loss_close, tolerance, values_close

TOL = tolerance("cpu", "float32")
CONFIG = dict(vocab_size=1000, hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128,
              max_position_embeddings=64)

# (head, problem_type or None, num_labels): HF's three sequence losses, the null problem_type that HF decides
# from the labels, and the token head.
CASES = [("sequence", "single_label_classification", 3), ("sequence", "multi_label_classification", 4),
         ("sequence", "regression", 1), ("sequence", None, 2), ("token", None, 5)]


def make_batch(head, problem, num_labels, batch=3, seq=20, seed=0):
    g = torch.Generator().manual_seed(seed)
    lengths = [seq, seq - 6, seq // 2]
    ids = torch.randint(5, CONFIG["vocab_size"], (batch, seq), generator=g)
    mask = torch.zeros(batch, seq, dtype=torch.long)
    types = torch.zeros(batch, seq, dtype=torch.long)
    for row, n in enumerate(lengths):
        mask[row, :n] = 1
        types[row, n // 2:n] = 1
        ids[row, n:] = 0
    if head == "token":
        labels = torch.randint(0, num_labels, (batch, seq), generator=g)
        labels[mask == 0] = -100
        labels[:, 0] = -100  # [CLS], as run_ner.py aligns
        labels[torch.rand(batch, seq, generator=g) < 0.3] = -100  # continuation pieces
    elif problem == "regression":
        labels = torch.rand(batch, generator=g) * 5
    elif problem == "multi_label_classification":
        labels = (torch.rand(batch, num_labels, generator=g) < 0.5).float()
    else:
        labels = torch.randint(0, num_labels, (batch,), generator=g)
    return dict(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels)


@pytest.mark.parametrize("head,problem,num_labels", CASES)
def test_head_logits_loss_and_gradients_equal_hf(tmp_path, run_bertforge, head, problem, num_labels):
    torch.manual_seed(3)
    config = BertConfig(**CONFIG, num_labels=num_labels, problem_type=problem)
    model = (BertForTokenClassification if head == "token" else BertForSequenceClassification)(config)
    model.save_pretrained(tmp_path)
    batch = make_batch(head, problem, num_labels)
    save_file(batch, str(tmp_path / "inputs.safetensors"))
    run_bertforge("forward", "--model", tmp_path, "--inputs", tmp_path / "inputs.safetensors", "--output",
                  tmp_path / "ours.safetensors", "--grads")
    ours = load_file(str(tmp_path / "ours.safetensors"))
    model.eval()
    ref = model(**batch)
    ref.loss.backward()
    real = batch["attention_mask"].bool()
    if head == "token":  # bertforge computes nothing at padding: compare real positions
        values_close(ours["logits"][real], ref.logits[real], TOL, "logits")
    else:
        values_close(ours["logits"], ref.logits, TOL, "logits")
    loss_close(ours["loss"], ref.loss.detach(), TOL, "loss")
    grads_close(ours, {n: p.grad for n, p in model.named_parameters() if p.grad is not None}, TOL)
