"""The command line's shared rules, driven through the binary: --help shows every option's values and default
in HF's groups, dashed and snake_case spellings are one, booleans stand alone and turn off with a value,
--print_config prints the merged configuration, --dry_run plans without writing, and whole-word masking
takes the words HF's own tokenizer sees (a word and its ## pieces; each CJK character a word of its own).
"""
import json
import re
import shutil

import pytest
import torch
from safetensors.torch import load_file
from transformers import BertConfig, BertForPreTraining, BertTokenizerFast

VOCAB = "vocab/bert-base-uncased/vocab.txt"
TINY = dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
            max_position_embeddings=128)
# Rare words WordPiece splits into ## pieces, punctuation glued to words, and runs of CJK characters.
TEXT = ["Photosynthesizing cyanobacteria outcompeted unicellular eukaryotes, reportedly.",
        "中国人民银行发布了新的货币政策。 The governor's spokeswoman elaborated, unsurprisingly.",
        "東京大学の研究者は量子計算機を開発した。 Researchers characterised superconducting qubits.",
        "Meanwhile, thermodynamically unfavourable reactions proceeded regardless.",
        "我们今天学习汉字和语法。 Afterwards, the schoolchildren played hopscotch enthusiastically."]


@pytest.fixture(scope="module")
def setup(tmp_path_factory, run_bertforge, shared_data):
    """A prepared corpus of TEXT (documents of a few sentences) and a tiny model over bert-base-uncased."""
    root = tmp_path_factory.mktemp("cli")
    corpus = root / "corpus.txt"
    corpus.write_text("\n\n".join("\n".join(TEXT[i:] + TEXT[:i]) for i in range(len(TEXT))) + "\n", encoding="utf-8")
    run_bertforge("prepare", corpus, "--vocab", shared_data(VOCAB), "-o", root / "data", "--threads", "1",
                  "--max_seq_length", "64", "--dupe_factor", "4")
    tok = BertTokenizerFast(str(shared_data(VOCAB)), do_lower_case=True)
    torch.manual_seed(0)
    hf = root / "hf"
    BertForPreTraining(BertConfig(vocab_size=len(tok), **TINY)).save_pretrained(hf)
    tok.save_pretrained(hf)
    run_bertforge("import", hf, root / "model")
    return root, tok


def help_of(run_bertforge, command):
    return run_bertforge(command, "--help").stdout


def option_line(help_text, name):
    lines = [line for line in help_text.splitlines() if re.match(rf"\s+(-\w,)?--{name}\b", line)]
    assert len(lines) == 1, (name, lines)
    return lines[0]


def test_pretrain_help_shows_every_default_and_choice_in_hf_groups(run_bertforge):
    text = help_of(run_bertforge, "pretrain")
    defaults = json.loads(run_bertforge("pretrain", "--print_config").stdout)
    for key, value in defaults.items():
        line = option_line(text, key)
        shown = "unset" if value in (None, "") else str(value).lower() if isinstance(value, bool) else str(value)
        if isinstance(value, float):
            assert float(re.search(r"\(default ([^)]*)\)", line).group(1)) == value, line
        else:
            assert f"(default {shown})" in line, line
    optim = option_line(text, "optim")
    choices = re.search(r"\{([^}]*)\}", optim).group(1).split(",")
    assert defaults["optim"] in choices and "lamb" in choices and "sgd" in choices
    assert "[true|false]" in option_line(text, "bf16")
    # the ranges validate() checks, in its words ("must be > 0" when refused)
    for key, allowed in [("learning_rate", "FLOAT > 0"), ("warmup_ratio", "FLOAT in [0, 1]"),
                         ("adam_beta1", "FLOAT in [0, 1)"), ("save_total_limit", "INT >= 0"),
                         ("per_device_train_batch_size", "INT > 0"), ("mlm_probability", "FLOAT in [0, 1]")]:
        assert allowed + " (default" in option_line(text, key), key
    for group in ["Optimizer:", "Learning Rate & Scheduler:", "Best Model Tracking:", "Checkpointing & Saving:",
                  "Masking (DataCollatorForLanguageModeling):"]:
        assert group in text, group
    assert text.index("Optimizer:") < text.index(option_line(text, "adam_beta1"))


@pytest.mark.parametrize("command", ["pretrain", "evaluate", "fill-mask", "mlm-demo", "forward"])
def test_device_defaults_to_auto_everywhere(run_bertforge, command):
    assert "{auto,cpu,cuda,cuda:N} (default auto)" in option_line(help_of(run_bertforge, command), "device")


@pytest.mark.parametrize("command", ["pretrain", "evaluate", "fill-mask", "mlm-demo", "export", "import", "tokenize",
                                     "decode", "prepare"])
def test_tokenizer_option_is_one_spelling_with_vocab_alias(run_bertforge, command):
    assert "--tokenizer,--vocab" in help_of(run_bertforge, command)


@pytest.mark.parametrize("command", ["pretrain", "evaluate", "forward"])
def test_bf16_is_a_boolean_everywhere(run_bertforge, command):
    assert "--bf16 [true|false] (default false)" in help_of(run_bertforge, command)


def test_ranges_show_in_every_command(run_bertforge):
    """The ranges checked while parsing read as validate()'s: "in [lo, hi]", "> 0", ">= 1"."""
    prepare = help_of(run_bertforge, "prepare")
    assert "in (0, 1048576] (default" in option_line(prepare, "chunk-mb")
    assert "in [1, 1024] (default" in option_line(prepare, "dupe_factor")
    assert "in [0, 1] (default" in option_line(prepare, "short_seq_prob")
    assert "in [5, inf]" not in prepare and ">= 5 (default" in option_line(prepare, "max_seq_length")
    assert "FLOAT in [0, 1] (default 0.15)" in option_line(help_of(run_bertforge, "evaluate"), "mlm_probability")
    assert "INT > 0 (default" in option_line(help_of(run_bertforge, "evaluate"), "per_device_eval_batch_size")
    assert ">= 1 (default" in option_line(help_of(run_bertforge, "fill-mask"), "top_k")
    assert re.search(r"--threads INT in \[0, \d+\] \(default 0\)", run_bertforge("--help").stdout)


def test_every_option_of_every_command_shows_a_default(run_bertforge):
    for command in ["pretrain", "evaluate", "fill-mask", "mlm-demo", "forward", "prepare", "tokenize", "export"]:
        for line in help_of(run_bertforge, command).splitlines():
            if re.match(r"\s+(-\w,)?--", line) and "--help" not in line:
                assert re.search(r"\((default [^)]*|required|flag)\)", line), (command, line)


def test_spellings_booleans_and_merged_config(run_bertforge, tmp_path):
    def config(*args):
        return json.loads(run_bertforge("pretrain", "--print_config", *args).stdout)

    assert config("--learning-rate", "1e-3")["learning_rate"] == 1e-3
    assert config("--learning_rate=2e-3")["learning_rate"] == 2e-3
    assert config("--bf16", "--seed", "3")["bf16"] is True
    assert config("--bf16", "false")["bf16"] is False
    assert config("--whole-word-mask")["whole_word_mask"] is True
    assert config("--greater_is_better", "false")["greater_is_better"] is False
    file = tmp_path / "args.json"
    file.write_text(json.dumps({"learning_rate": 1e-3, "seed": 7, "mlm_probability": 0.3}))
    recipe = tmp_path / "recipe.json"
    recipe.write_text(json.dumps({"phases": [{"max_steps": 5}, {"max_steps": 2, "mlm_probability": 0.2}]}))
    merged = config("--config_file", file, "--seed", "9", "--recipe", recipe)
    assert [p["max_steps"] for p in merged] == [5, 2]
    assert [p["mlm_probability"] for p in merged] == [0.3, 0.2]
    assert all(p["seed"] == 9 and p["learning_rate"] == 1e-3 for p in merged)  # the command line wins over the file


def test_evaluate_takes_the_masking_options(setup, run_bertforge, tmp_path):
    root, _ = setup
    base = ["evaluate", "--model", root / "model", "--dataset", root / "data", "--device", "cpu", "--json",
            "--max_batches", "1", "--batch_size", "16"]
    run_bertforge(*base, "--mlm_probability", "0.5", "--mask_replace_prob", "1", "--random_replace_prob", "0",
                  "--pad_to_multiple_of", "48", "--dump_batch", tmp_path / "b.safetensors")
    b = load_file(tmp_path / "b.safetensors")
    assert b["input_ids"].shape[1] % 48 == 0
    picked = b["labels"] != -100
    real = (b["attention_mask"] == 1).sum().item()
    assert 0.35 < picked.sum().item() / real < 0.6  # ~half of the non-special tokens
    assert (b["input_ids"][picked] == 103).all()  # every selected token became [MASK]


def test_whole_word_masking_takes_hf_tokenizer_words(setup, run_bertforge, shared_data, tmp_path):
    """The words are those of HF's fast tokenizer (word_ids()): its pre-tokenizer splits punctuation and each
    CJK character off, and ## pieces share their word's id."""
    root, tok = setup
    base = ["evaluate", "--model", root / "model", "--dataset", root / "data", "--device", "cpu", "--json",
            "--batch_size", "64", "--max_batches", "1", "--whole_word_mask", "--mlm_probability", "0.3"]
    run_bertforge(*base, "--tokenizer", shared_data(VOCAB), "--dump_batch", tmp_path / "b.safetensors")
    b = load_file(tmp_path / "b.safetensors")
    # the ## pieces come from the tokenizer the data was made with: --tokenizer, else the one beside the data
    run_bertforge(*base, "--dump_batch", tmp_path / "beside.safetensors")
    assert torch.equal(load_file(tmp_path / "beside.safetensors")["labels"], b["labels"])
    no_tokenizer = shutil.ignore_patterns("vocab.txt", "tokenizer*.json", "special_tokens_map.json")
    shutil.copytree(root / "data", tmp_path / "data", ignore=no_tokenizer)
    shutil.copytree(root / "model", tmp_path / "model", ignore=no_tokenizer)
    bare = ["evaluate", "--model", tmp_path / "model", "--dataset", tmp_path / "data", *base[5:]]
    proc = run_bertforge(*bare, check=False)
    assert proc.returncode == 1 and "--whole_word_mask: needs the tokenizer the dataset was made with" in proc.stderr
    original = torch.where(b["labels"] != -100, b["labels"], b["input_ids"])
    cjk_split = pieces_whole = rows = 0
    for row, labels in zip(original.tolist(), (b["labels"] != -100).tolist()):
        sep = [i for i, t in enumerate(row) if t == tok.sep_token_id]
        for start, end in zip([1] + [s + 1 for s in sep[:-1]], sep):
            ids = row[start:end]
            enc = tok(tok.decode(ids), add_special_tokens=False)
            if enc.input_ids != ids:
                continue  # decoding does not give this segment back exactly
            rows += 1
            words = {}
            for k, w in enumerate(enc.word_ids()):
                words.setdefault(w, []).append(labels[start + k])
            for flags in words.values():
                assert all(flags) or not any(flags), (tok.convert_ids_to_tokens(ids), flags)
                pieces_whole += len(flags) > 1 and all(flags)
            tokens = tok.convert_ids_to_tokens(ids)
            for k in range(1, len(ids)):
                both_cjk = all(len(t) == 1 and ord(t) >= 0x3000 for t in tokens[k - 1:k + 1])
                cjk_split += both_cjk and labels[start + k] != labels[start + k - 1]
    assert rows > 20 and pieces_whole > 0  # multi-piece words were masked whole
    assert cjk_split > 0  # neighbouring CJK characters are masked apart: each is a word


def test_dry_run_plans_and_writes_nothing(setup, run_bertforge, tmp_path):
    root, _ = setup
    out = tmp_path / "run"
    proc = run_bertforge("pretrain", "--dry-run", "--model", root / "model" / "config.json", "--train_data",
                         root / "data", "--output_dir", out, "--device", "cpu", "--threads", "1",
                         "--per_device_train_batch_size", "4", "--num_train_epochs", "2", "--save_steps", "5",
                         "--save_total_limit", "2")
    assert not out.exists()
    text = proc.stdout
    for needle in ["parameters", "per epoch", "in all", "tokens per step", "weights", "optimizer state",
                   "activations", "per checkpoint", "kept", "s per step", "eta"]:
        assert needle in text, needle
    steps = int(re.search(r"(\d+) in all", text).group(1))
    per_epoch = int(re.search(r"(\d+) per epoch", text).group(1))
    assert steps == 2 * per_epoch
    saves = int(re.search(r"(\d+) checkpoints saved", text).group(1))
    assert saves == -(-steps // 5) and "2 kept" in text
