"""Inference and model tools against HF transformers (the oracle): fill-mask, export/import, info, evaluate.

HF builds a tiny random BERT (hidden 32, 2 layers) over bert-base-cased's vocabulary and saves it with its
tokenizer; `bertforge import` brings it in, `bertforge fill-mask` must give pipeline("fill-mask")'s top-5
tokens with probabilities within 1e-4, `bertforge export` must give a folder HF loads without a warning, and
`bertforge evaluate`'s MLM loss must equal HF's on the very batch bertforge masked (--dump-batch).
Weights are drawn with initializer_range 0.2 so that the top-5 are not decided by rounding.
"""
import io
import json
import logging
import shutil
import warnings

import pytest
import torch
from safetensors.torch import load_file
from transformers import (AutoModelForMaskedLM, AutoTokenizer, BertConfig, BertForPreTraining, pipeline)
from transformers.utils import logging as hf_logging

from tolerance import tolerance

SCORE_TOL = tolerance("cpu", "float32")["probabilities"]  # fill-mask scores: softmax of fp32 logits
TEXTS = ["Paris is the [MASK] of France.", "The cat sat on the [MASK].",
         "She [MASK] to the market and bought [MASK] apples."]


@pytest.fixture(scope="module")
def hf_dir(tmp_path_factory, shared_data):
    vocab_dir = shared_data("vocab/bert-base-cased")
    d = tmp_path_factory.mktemp("hf_tiny")
    tok = AutoTokenizer.from_pretrained(str(vocab_dir))
    tok.save_pretrained(d)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64, initializer_range=0.2)
    BertForPreTraining(config).save_pretrained(d)
    return d


@pytest.fixture(scope="module")
def bf_dir(hf_dir, tmp_path_factory, run_bertforge):
    out = tmp_path_factory.mktemp("bf") / "model"
    run_bertforge("import", hf_dir, out)
    return out


@pytest.fixture(scope="module")
def hf_pipe(hf_dir):
    return pipeline("fill-mask", model=str(hf_dir), tokenizer=str(hf_dir), device="cpu")


def as_lists(result):
    """HF's shape for one text -> one list of proposals per [MASK]."""
    return [result] if result and isinstance(result[0], dict) else result


def assert_same(ours, ref, k=5):
    assert len(ours) == len(ref)
    for mine, theirs in zip(ours, ref):
        theirs = theirs[:k]
        assert [p["token"] for p in mine] == [p["token"] for p in theirs]
        assert [p["token_str"] for p in mine] == [p["token_str"] for p in theirs]
        assert [p["sequence"] for p in mine] == [p["sequence"] for p in theirs]
        for a, b in zip(mine, theirs):
            assert abs(a["score"] - b["score"]) <= SCORE_TOL, (a, b)


def fill_mask_json(run_bertforge, model, *args):
    proc = run_bertforge("fill-mask", "--model", model, "--json", *args)
    return [as_lists(json.loads(line)) for line in proc.stdout.splitlines()]


def test_fill_mask_matches_hf_pipeline_with_special_tokens_ranked(run_bertforge, bf_dir, hf_pipe):
    ours = fill_mask_json(run_bertforge, bf_dir, "--include-special", *TEXTS)
    for text, mine in zip(TEXTS, ours):
        assert_same(mine, as_lists(hf_pipe(text, top_k=5)))


def test_fill_mask_never_proposes_special_tokens(run_bertforge, bf_dir, hf_pipe):
    special = set(hf_pipe.tokenizer.all_special_ids)
    ours = fill_mask_json(run_bertforge, bf_dir, *TEXTS)
    for text, mine in zip(TEXTS, ours):
        ref = [[p for p in per_mask if p["token"] not in special] for per_mask in as_lists(hf_pipe(text, top_k=30))]
        assert_same(mine, ref)
        assert all(p["token"] not in special for per_mask in mine for p in per_mask)


def test_fill_mask_file_input_is_batched_and_human_output_lists_top_k(run_bertforge, bf_dir, hf_pipe, tmp_path):
    inputs = tmp_path / "in.txt"
    inputs.write_text("\n".join(TEXTS * 3) + "\n")
    ours = fill_mask_json(run_bertforge, bf_dir, "--input", inputs, "--batch-size", "4", "--include-special")
    assert len(ours) == 3 * len(TEXTS)
    for text, mine in zip(TEXTS * 3, ours):
        assert_same(mine, as_lists(hf_pipe(text, top_k=5)))
    human = run_bertforge("fill-mask", "--model", bf_dir, "--top-k", "3", TEXTS[0]).stdout.splitlines()
    assert human[0] == TEXTS[0] and len(human) == 4
    top = hf_pipe(TEXTS[0], top_k=10)
    top = [p for p in top if p["token"] not in hf_pipe.tokenizer.all_special_ids]
    assert human[1].split()[1] == top[0]["token_str"]



def test_fill_mask_ranks_the_given_answers_as_hf_scores_them_as_targets(run_bertforge, bf_dir, hf_pipe, tmp_path):
    """--answer: each [MASK]'s word gets HF's target score and its rank among the proposable tokens."""
    special = set(hf_pipe.tokenizer.all_special_ids)
    inputs = tmp_path / "answers.txt"
    inputs.write_text(TEXTS[2] + "\n")
    answers = ["capital", "mat", "went", "three"]
    # Each --answer takes one word, so texts and answers may alternate on the command line.
    proc = run_bertforge("fill-mask", "--model", bf_dir, "--top-k", "3", TEXTS[0], "--answer", answers[0], TEXTS[1],
                         "--input", inputs, *[a for word in answers[1:] for a in ("--answer", word)])
    lines = [line.split() for line in proc.stdout.splitlines() if line.lstrip().startswith("answer ")]
    assert [cells[1] for cells in lines] == answers
    masks = [(TEXTS[0], 0), (TEXTS[1], 0), (TEXTS[2], 0), (TEXTS[2], 1)]
    in_top = 0
    for (text, mask), word, cells in zip(masks, answers, lines):
        target = as_lists(hf_pipe(text, targets=[word]))[mask][0]
        ranked = [p for p in as_lists(hf_pipe(text, top_k=hf_pipe.tokenizer.vocab_size))[mask]
                  if p["token"] not in special]
        rank = 1 + sum(p["score"] > target["score"] + SCORE_TOL for p in ranked)
        assert abs(float(cells[4].strip("()")) - target["score"]) <= SCORE_TOL
        assert abs(int(cells[3]) - rank) <= sum(abs(p["score"] - target["score"]) <= SCORE_TOL for p in ranked)
        in_top += int(cells[3]) <= 3
    assert proc.stdout.splitlines()[-1] == f"answers in the top 3: {in_top} of 4"


@pytest.mark.parametrize("answers, error", [(["capital", "mat"], "--answer: 2 given for 1 masks"),
                                            (["Parisians"], "answer 'Parisians' is 2 tokens")])
def test_fill_mask_refuses_answers_that_do_not_fit(run_bertforge, bf_dir, answers, error):
    proc = run_bertforge("fill-mask", "--model", bf_dir, TEXTS[0], *[a for w in answers for a in ("--answer", w)],
                         check=False)
    assert proc.returncode != 0 and error in proc.stderr and len(proc.stderr.strip().splitlines()) == 1

def hf_complaints(capfd, load):
    """Runs load(); returns (its result, HF's warning log messages, Python warnings, stderr)."""
    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    hf_logger = logging.getLogger("transformers")
    hf_logger.addHandler(handler)
    hf_logging.disable_progress_bar()  # "Loading weights" bars are progress, not complaints
    capfd.readouterr()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = load()
    finally:
        hf_logger.removeHandler(handler)
        hf_logging.enable_progress_bar()
    return result, [r.getMessage() for r in records], [str(w.message) for w in caught], capfd.readouterr().err


# What HF 5 reports for EVERY BertForPreTraining checkpoint loaded as BertForMaskedLM (google-bert/bert-base-*
# included): the pooler and NSP head, which BertForMaskedLM has no place for. No file can avoid it and still
# load into BertForPreTraining silently; see the notes of issue 6.
PRETRAINING_ONLY = {"bert.pooler.dense.weight", "bert.pooler.dense.bias", "cls.seq_relationship.weight",
                    "cls.seq_relationship.bias"}


def assert_silent(complaints):
    _, logged, caught, err = complaints
    assert not logged and not caught and err.strip() == "", (logged, caught, err)


def assert_only_pretraining_heads_unexpected(complaints):
    _, logged, caught, err = complaints
    assert not caught, caught
    assert len(logged) == 1, logged
    rows = [line.split("|") for line in logged[0].splitlines() if line.count("|") >= 2]
    statuses = {cells[0].strip(): cells[1].strip() for cells in rows[1:] if not cells[0].startswith("---")}
    assert set(statuses) == PRETRAINING_ONLY, statuses
    assert all("UNEXPECTED" in status for status in statuses.values()), statuses
    assert set(err.strip().splitlines()) <= set(logged[0].splitlines()), err


def test_export_loads_in_hf_offline(run_bertforge, bf_dir, hf_dir, hf_pipe, tmp_path, capfd):
    out = tmp_path / "hf"
    run_bertforge("export", "--model", bf_dir, "--format", "hf", out)
    for name in ["config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "tokenizer.json",
                 "special_tokens_map.json"]:
        assert (out / name).exists(), name
    tok = hf_complaints(capfd, lambda: AutoTokenizer.from_pretrained(out, local_files_only=True))
    assert_silent(tok)
    pre = hf_complaints(capfd, lambda: BertForPreTraining.from_pretrained(out, local_files_only=True))
    assert_silent(pre)
    mlm = hf_complaints(capfd, lambda: AutoModelForMaskedLM.from_pretrained(out, local_files_only=True))
    assert_only_pretraining_heads_unexpected(mlm)
    pipe = hf_complaints(capfd, lambda: pipeline("fill-mask", model=str(out), tokenizer=str(out), device="cpu"))
    assert_only_pretraining_heads_unexpected(pipe)

    ref = AutoTokenizer.from_pretrained(hf_dir)
    assert tok[0](TEXTS)["input_ids"] == ref(TEXTS)["input_ids"]
    original = load_file(hf_dir / "model.safetensors")
    exported = load_file(out / "model.safetensors")
    assert set(exported) <= set(original)
    for key, value in exported.items():
        assert torch.equal(value, original[key]), key
    assert pre[0].cls.seq_relationship.weight.shape == (2, 32) and mlm[0].config.vocab_size == len(ref)
    for text in TEXTS:
        assert_same(as_lists(pipe[0](text, top_k=5)), as_lists(hf_pipe(text, top_k=5)))


def test_info_reports_configuration_and_parameters(run_bertforge, bf_dir, hf_dir):
    info = json.loads(run_bertforge("info", bf_dir, "--json").stdout)
    hf = BertForPreTraining.from_pretrained(hf_dir)
    assert info["parameters"] == hf.num_parameters()
    assert info["config"]["hidden_size"] == 32
    assert info["tokenizer"]["vocab_size"] == 28996
    human = run_bertforge("info", bf_dir).stdout
    assert f"parameters  {hf.num_parameters()}" in human


def test_mlm_demo_prints_input_output_and_accuracy(run_bertforge, bf_dir):
    text = "The quick brown fox jumps over the lazy dog near the river bank on a sunny afternoon in May."
    a = run_bertforge("mlm-demo", "--model", bf_dir, text, "--seed", "3").stdout.splitlines()
    b = run_bertforge("mlm-demo", "--model", bf_dir, text, "--seed", "3").stdout.splitlines()
    assert a == b
    assert a[0].startswith("Input:  [CLS] ") and "[MASK]" in a[0]
    assert a[1].startswith("Output: ")
    assert "accuracy" in a[2]


def one_line_error(proc, *needles):
    assert proc.returncode == 1, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_bad_inputs_give_one_line_errors(run_bertforge, bf_dir, shared_data, tmp_path):
    one_line_error(run_bertforge("fill-mask", "--model", bf_dir, "No mask in this text.", check=False),
                   "text 1: no [MASK] token")
    lines = tmp_path / "lines.txt"
    lines.write_text("A [MASK] here.\nnone here\n")
    one_line_error(run_bertforge("fill-mask", "--model", bf_dir, "--input", lines, check=False),
                   f"{lines}:2: no [MASK] token")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    one_line_error(run_bertforge("fill-mask", "--model", bf_dir, "--input", empty, check=False),
                   f"{empty}: the input file is empty")
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ["config.json", "model.safetensors"]:
        shutil.copy(bf_dir / name, bare / name)
    one_line_error(run_bertforge("fill-mask", "--model", bare, "A [MASK].", check=False),
                   f"{bare}: no vocabulary", "--tokenizer")
    uncased = shared_data("vocab/bert-base-uncased/vocab.txt")
    one_line_error(run_bertforge("fill-mask", "--model", bare, "--tokenizer", uncased, "A [MASK].", check=False),
                   "30522 tokens", "vocab_size 28996")
    one_line_error(run_bertforge("export", "--model", bare, "--format", "hf", tmp_path / "x", check=False),
                   "no vocabulary")



def test_export_masked_lm_head_loads_silently_in_the_fill_mask_pipeline(run_bertforge, bf_dir, hf_pipe, tmp_path,
                                                                         capfd):
    out = tmp_path / "mlm"
    run_bertforge("export", "--model", bf_dir, "--format", "hf", "--head", "masked-lm", out)
    mlm = hf_complaints(capfd, lambda: AutoModelForMaskedLM.from_pretrained(out, local_files_only=True))
    assert_silent(mlm)
    pipe = hf_complaints(capfd, lambda: pipeline("fill-mask", model=str(out), tokenizer=str(out), device="cpu"))
    assert_silent(pipe)
    assert not PRETRAINING_ONLY & set(load_file(out / "model.safetensors"))
    for text in TEXTS:
        assert_same(as_lists(pipe[0](text, top_k=5)), as_lists(hf_pipe(text, top_k=5)))
