"""The fine-tuning data golden (tests/golden/finetune_data/cases.json), which tests/data/labelled_files_test.cpp
holds bertforge's read_labelled to, is what HF makes of the committed fixtures with the HF libraries installed
now: tools/gen_golden/finetune_data.py runs again here (HF's loaders, run_glue.py's / run_classification.py's /
run_ner.py's preprocessing, BertTokenizerFast) and must give the committed cases, and the text fixtures must be
the ones it writes. A difference means HF changed, or a fixture or the generator did without regenerating.
"""
import importlib.util
import json
import pathlib

import pytest

SOURCE_DIR = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = SOURCE_DIR / "tests" / "golden" / "finetune_data" / "cases.json"


@pytest.fixture(scope="module")
def gen():
    path = SOURCE_DIR / "tools" / "gen_golden" / "finetune_data.py"
    spec = importlib.util.spec_from_file_location("finetune_data", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def committed():
    return {c["name"]: c for c in json.loads(GOLDEN.read_text())["cases"]}


def test_text_fixtures_are_what_the_generator_writes(gen, tmp_path, shared_data):
    gen.write_fixtures(tmp_path)
    for rel in gen.TEXT_FILES:
        assert (tmp_path / rel).read_bytes() == shared_data("finetune/" + rel).read_bytes(), rel


def test_every_case_is_what_hf_makes_now(gen, committed, shared_data):
    fresh = gen.golden(shared_data("finetune"))
    assert [c["name"] for c in fresh["cases"]] == list(committed)
    for case in fresh["cases"]:
        want = committed[case["name"]]
        assert case["file"] == want["file"] and case["options"] == want["options"], case["name"]
        assert case["expected"] == want["expected"], case["name"]


def test_the_cases_cover_every_format_and_glue_task(committed):
    glue = {c["options"]["task_name"] for c in committed.values() if "task_name" in c["options"]}
    assert glue == {"cola", "sst2", "mrpc", "stsb", "qqp", "mnli", "qnli", "rte", "wnli"}
    files = {c["file"] for c in committed.values()}
    for suffix in [".csv", ".jsonl", ".parquet", ".conll", "hf_pairs", "hf_ner"]:
        assert any(f.endswith(suffix) for f in files), suffix
    problems = {c["expected"]["problem"] for c in committed.values()}
    assert problems == {"single_label_classification", "multi_label_classification", "regression",
                        "token_classification"}
    # truncation is exercised: some rows end at their max_seq_length
    assert any(len(ids) == c["options"].get("max_seq_length", 128)
               for c in committed.values() for ids in c["expected"]["input_ids"])
