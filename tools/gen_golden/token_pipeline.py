"""Writes tests/golden/token_pipeline.json: HF's offsets and token-classification entities, the oracle of
tests/text/tokenizer_offsets_test.cpp (Tokenizer's return_offsets_mapping) and tests/infer/entities_test.cpp
(infer/entities.h). Seeded, so the same versions write the same file; tests/python/test_token_pipeline_golden.py
checks the committed file against what the pinned HF gives now.

  offsets    for each tokenizer of CONFIGS (BertTokenizerFast's arguments) and each of TEXTS:
             tokenizer(text, return_offsets_mapping=True)'s input_ids and offset_mapping
  pairs      the same for PAIRS of texts, truncated to max_length
  pipeline   a small random BertForTokenClassification (labels O B-PER I-PER B-LOC I-LOC) with a classifier
             scaled up so that its argmax changes from token to token (many groups, B- and I- mixed), run by
             pipeline("token-classification", aggregation_strategy="simple") on PIPELINE_TEXTS: each text's
             input_ids, offsets, the per-token softmax the pipeline computes from the model's logits
             (NumPy float32, as in its postprocess) and the entities it returns

Run: HF_HUB_OFFLINE=1 ~/.local/share/bertforge/venv/bin/python tools/gen_golden/token_pipeline.py
"""
import json
import pathlib

import numpy as np
import tokenizers
import torch
import transformers
from transformers import BertConfig, BertForTokenClassification, BertTokenizerFast, pipeline

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "golden" / "token_pipeline.json"
LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]

TEXTS = [
    "Hello, World!",
    "Héllo wörld Ångström naïve café",
    "ÉCOLE NORMALE SUPÉRIEURE in PARIS",
    "e\u0301 decomposed accent, İstanbul and İİİ",
    "Don't stop... (really?) -- 3.14 $5 #1 @you",
    "中文字符 mixed with 日本語 text",
    "emoji 🙂 and 👍🏽 and family 👨\u200d👩\u200d👧 end",
    "multiple   spaces\tand\ttabs\nnewline\r\nend",
    "a" * 120 + " short " + "xy" * 60 + "z",
    "control\u0007char, zero\u200bwidth, nul\x00here, \ufffd replaced",
    "  leading and trailing spaces  ",
    "[MASK] and [CLS] written in text, [UNK] too",
    "",
    "unaffable tokenization playing hyperparameters",
    "Müller-Lüdenscheidt's über-café",
    "ΣΊΣΥΦΟΣ and Москва",
    "ﬁne ligature ½ ² ℌ",
    "non\u00a0breaking\u3000ideographic space",
    "John Smith lives in New York and Jane Doe in Berlin.",
    "Straße STRASSE ǅemal Ⅻ",
]

PIPELINE_TEXTS = [
    "John Smith lives in New York and Jane Doe in Berlin.",
    "Angela Merkel met Emmanuel Macron in Paris yesterday.",
    "Héllo wörld, Ångström visited São Paulo and Zürich.",
    "The unaffable hyperparameters of tokenization.",
    "emoji 🙂 and 中文 text with [MASK] and 👍🏽 here",
    "multiple   spaces\tand\ttabs between Barack Obama",
    "a" * 120 + " long word then Washington D.C.",
    "Don't stop... (really?) -- 3.14 $5 at McDonald's",
    "control\u0007char, zero\u200bwidth in Reykjavík",
    "",
]


# The offsets' tokenizers: each vocabulary as its model uses it, and the normalizer's switches one at a time.
CONFIGS = [
    {"vocab": "bert-base-uncased", "do_lower_case": True},
    {"vocab": "bert-base-cased", "do_lower_case": False},
    {"vocab": "bert-base-uncased", "do_lower_case": True, "strip_accents": False},
    {"vocab": "bert-base-cased", "do_lower_case": False, "strip_accents": True},
    {"vocab": "bert-base-uncased", "do_lower_case": True, "tokenize_chinese_chars": False},
]
# Pairs, truncated: the second text's offsets count from its own start.
PAIRS = [
    ("Héllo Wörld, how are you?", "Fine, thanks: and 中文 you?", 12, "longest_first"),
    ("ÉCOLE NORMALE", "a b c d e f g h i j", 9, "only_second"),
    ("a b c d e f g h i j", "İstanbul", 8, "only_first"),
]


def tokenizer(vocab, do_lower_case, **options):
    return BertTokenizerFast(str(ROOT / "tests" / "fixtures" / "vocab" / vocab / "vocab.txt"),
                             do_lower_case=do_lower_case, **options)


def offsets():
    out = []
    for config in CONFIGS:
        tok = tokenizer(**config)
        rows = []
        for text in TEXTS:
            e = tok(text, return_offsets_mapping=True)
            rows.append({"text": text, "input_ids": e["input_ids"],
                         "offsets": [list(o) for o in e["offset_mapping"]]})
        out.append({"config": config, "rows": rows})
    return out


def pairs():
    tok = tokenizer(**CONFIGS[0])
    rows = []
    for a, b, max_length, truncation in PAIRS:
        e = tok(a, b, return_offsets_mapping=True, max_length=max_length, truncation=truncation)
        rows.append({"a": a, "b": b, "max_length": max_length, "truncation": truncation,
                     "input_ids": e["input_ids"], "offsets": [list(o) for o in e["offset_mapping"]]})
    return {"config": CONFIGS[0], "rows": rows}


def model(tok):
    torch.manual_seed(20261207)
    config = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=37, max_position_embeddings=128, num_labels=len(LABELS),
                        id2label=dict(enumerate(LABELS)), label2id={l: i for i, l in enumerate(LABELS)})
    m = BertForTokenClassification(config).eval()
    # A random head's logits barely differ and one label wins everywhere (the hidden states share a common
    # direction). A larger head, centred on the texts' mean hidden state, lets the argmax change from token to
    # token; the bias keeps "O" common so that groups end as well as start.
    with torch.no_grad():
        hidden = torch.cat([m.bert(**tok(text, return_tensors="pt")).last_hidden_state[0]
                            for text in PIPELINE_TEXTS])
        m.classifier.weight.normal_(0.0, 0.6)
        m.classifier.bias.copy_(torch.tensor([1.5, 0.0, 0.0, 0.0, 0.0]) - m.classifier.weight @ hidden.mean(0))
    return m


def softmax(logits):
    # The pipeline's postprocess, in NumPy float32.
    shifted = np.exp(logits - np.max(logits, axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def pipeline_rows(config=CONFIGS[1]):
    tok = tokenizer(**config)
    m = model(tok)
    ner = pipeline("token-classification", model=m, tokenizer=tok, aggregation_strategy="simple", device="cpu")
    rows = []
    for text in PIPELINE_TEXTS:
        e = tok(text, return_offsets_mapping=True, return_tensors="pt")
        with torch.no_grad():
            logits = m(input_ids=e["input_ids"], attention_mask=e["attention_mask"],
                       token_type_ids=e["token_type_ids"]).logits[0].numpy()
        entities = [{"entity_group": x["entity_group"], "score": float(x["score"]), "word": x["word"],
                     "start": int(x["start"]), "end": int(x["end"])} for x in ner(text)]
        rows.append({"text": text, "input_ids": e["input_ids"][0].tolist(),
                     "offsets": e["offset_mapping"][0].tolist(),
                     "probabilities": [[float(p) for p in row] for row in softmax(logits)],
                     "entities": entities})
    return {"config": config, "id2label": LABELS, "rows": rows}


def build():
    return {
        "about": "Made by tools/gen_golden/token_pipeline.py (read it for what each section holds).",
        "versions": {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                     "torch": torch.__version__.split("+")[0], "numpy": np.__version__},
        "offsets": offsets(),
        "pairs": pairs(),
        "pipeline": pipeline_rows(),
    }


if __name__ == "__main__":
    OUT.write_text(json.dumps(build(), ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
