"""Compares a bertforge prepared folder with the reference's wikiTokenizedValid.hf: rows, real (unpadded)
length distribution, label balance, and, from the data itself, which label means "B follows A".

    python tools/compare_reference.py PREPARED_FOLDER [REFERENCE_HF_FOLDER]

"B follows A" is decided per row by looking A's and B's text up in wiki.valid.raw: B follows A when the raw
text has B right after A (whitespace-normalised), as decoded by BertTokenizerFast (bert-base-cased).
"""
import collections
import json
import os
import pathlib
import sys

import datasets
import numpy as np
from transformers import BertTokenizerFast

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "python"))
from test_data import read_shards  # noqa: E402  the documented shard layout, parsed once

DATA = pathlib.Path(os.environ.get("BERTFORGE_DATA") or pathlib.Path(__file__).resolve().parents[1] / "tests/fixtures")


def summary(name, lengths, labels):
    lengths = np.array(lengths)
    pct = np.percentile(lengths, [10, 50, 90])
    hist = np.histogram(lengths, bins=[0, 32, 64, 96, 127, 129])[0]
    return (f"| {name} | {len(lengths)} | {lengths.mean():.1f} | {pct[0]:.0f} / {pct[1]:.0f} / {pct[2]:.0f} | "
            f"{' / '.join(map(str, hist))} | {dict(sorted(collections.Counter(labels).items()))} |")


def follows_rate(rows, tok, raw):
    """Per label: the fraction of rows whose B directly follows A in the raw text."""
    out = collections.defaultdict(lambda: [0, 0])
    for ids, types, label in rows:
        a = [i for i, t in zip(ids, types) if t == 0][1:-1]
        b = [i for i, t in zip(ids, types) if t == 1][:-1]
        joint = " ".join(tok.decode(a + b).split())
        out[label][0] += joint.replace(" ", "") in raw
        out[label][1] += 1
    return {k: f"{v[0]}/{v[1]}" for k, v in sorted(out.items())}


def main():
    ours_dir = pathlib.Path(sys.argv[1])
    ref_dir = sys.argv[2] if len(sys.argv) > 2 else DATA / "rocm-blog/wikiTokenizedValid.hf"
    tok = BertTokenizerFast(str(DATA / "vocab/bert-base-cased/vocab.txt"), do_lower_case=False)
    raw = "".join((DATA / "wikitext-103-raw/wiki.valid.raw").read_text().split())
    ref = datasets.load_from_disk(str(ref_dir))
    ref_rows = []
    for r in ref:
        n = sum(r["attention_mask"])
        ref_rows.append((r["input_ids"][:n], r["token_type_ids"][:n], r["next_sentence_label"]))
    ours = read_shards(ours_dir)
    print("| dataset | rows | mean length | p10 / p50 / p90 | lengths <32 / <64 / <96 / <127 / 127-128 | labels |")
    print("|---|---|---|---|---|---|")
    print(summary("reference wikiTokenizedValid.hf (unpadded)", [len(r[0]) for r in ref_rows], [r[2] for r in ref_rows]))
    print(summary(f"bertforge {ours_dir.name}", [len(r[0]) for r in ours], [r[2] for r in ours]))
    print("B directly follows A in wiki.valid.raw, by label (reference):", follows_rate(ref_rows, tok, raw))
    print("B directly follows A in wiki.valid.raw, by label (bertforge):", follows_rate(ours, tok, raw))


if __name__ == "__main__":
    main()
