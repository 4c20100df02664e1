"""Writes tests/fixtures/reference/wiki.valid.<vocab>.ids: HF BertTokenizerFast's ids (no special tokens) for each
line of tests/fixtures/wikitext-103-raw/wiki.valid.raw, one line of space-separated ids per input line (empty
for an empty line), with the vocabularies of tests/fixtures/vocab/: bert-base-cased as is, bert-base-uncased
lower-cased. The oracle for tests/text/reference_ids_test.cpp and test_tokenizer_oracle.py.

Run: $BERTFORGE_VENV/bin/python tools/gen_golden/reference_ids.py   (BERTFORGE_VENV: see the README)
"""
import pathlib

from transformers import BertTokenizerFast

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures"
VOCABS = {"bert-base-cased": False, "bert-base-uncased": True}  # name -> do_lower_case


def main():
    lines = (FIXTURES / "wikitext-103-raw" / "wiki.valid.raw").read_text(encoding="utf-8").split("\n")[:-1]
    for name, lower in VOCABS.items():
        tok = BertTokenizerFast(str(FIXTURES / "vocab" / name / "vocab.txt"), do_lower_case=lower)
        ids = (" ".join(map(str, tok.encode(line, add_special_tokens=False))) for line in lines)
        (FIXTURES / "reference" / f"wiki.valid.{name}.ids").write_text("".join(f"{row}\n" for row in ids))


if __name__ == "__main__":
    main()
