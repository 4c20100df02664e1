"""Data pipeline interop: bertforge prepare/import/export against HF datasets (the oracle) and pyarrow.

One shard parser here (numpy, from the layout documented in src/bertforge/data/shard.h) checks the format
independently of the C++ reader.
"""
import json
import struct

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

datasets = pytest.importorskip("datasets")

VOCAB = "vocab/bert-base-cased/vocab.txt"


def read_shards(folder):
    """Rows (input_ids, token_type_ids, label) of a prepared folder, parsed from the documented layout."""
    manifest = json.loads((folder / "manifest.json").read_text())
    rows = []
    for shard in manifest["shards"]:
        raw = (folder / shard["file"]).read_bytes()
        assert raw[:8] == b"BFSHARD\0"
        version, width, _hash, _vocab, task, n, t, tok_at, ends_at, type0_at, labels_at, size = struct.unpack_from(
            "<IIQIIQQQQQQQ", raw, 8)
        assert version == 1 and size == len(raw)
        dtype = {1: np.uint8, 2: np.uint16, 4: np.uint32}[width]
        tokens = np.frombuffer(raw, dtype, t, tok_at)
        ends = np.frombuffer(raw, np.uint64, n, ends_at)
        type0 = np.frombuffer(raw, np.uint32, n, type0_at)
        labels = np.frombuffer(raw, np.int8, n, labels_at) if task else [None] * n
        begin = 0
        for i in range(n):
            ids = tokens[begin:ends[i]].astype(np.int64).tolist()
            rows.append((ids, [0] * int(type0[i]) + [1] * (len(ids) - int(type0[i])),
                         None if labels[i] is None else int(labels[i])))
            begin = int(ends[i])
    return rows


def hf_rows(path, label="next_sentence_label"):
    ds = datasets.load_from_disk(str(path))
    out = []
    for r in ds:
        n = sum(r["attention_mask"])
        assert r["attention_mask"] == [1] * n + [0] * (len(r["attention_mask"]) - n)
        out.append((r["input_ids"][:n], r["token_type_ids"][:n], r.get(label)))
    return out, ds


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, run_bertforge, shared_data):
    """wiki.valid.raw prepared with the sentence strategy, plus its HF export."""
    root = tmp_path_factory.mktemp("prepared")
    run_bertforge("prepare", shared_data("wikitext-103-raw/wiki.valid.raw"), "--vocab", shared_data(VOCAB),
                  "-o", root / "shards", "--export-hf", root / "hf", "--threads", "2")
    return root


def test_export_loads_in_hf_with_the_same_rows(prepared):
    ours = read_shards(prepared / "shards")
    theirs, ds = hf_rows(prepared / "hf")
    assert len(ours) == len(theirs) > 7000
    assert ours == theirs
    assert ds.features["input_ids"].feature.dtype == "int32"
    assert ds.features["token_type_ids"].feature.dtype == "int8"
    assert ds.features["next_sentence_label"].dtype == "int64"


def test_import_of_export_gives_identical_shards(prepared, run_bertforge, shared_data):
    run_bertforge("prepare", prepared / "hf", "--vocab", shared_data(VOCAB), "-o", prepared / "back",
                  "--export-hf", prepared / "hf2")
    assert (prepared / "back" / "shard-00000.bin").read_bytes() == (prepared / "shards" / "shard-00000.bin").read_bytes()
    assert hf_rows(prepared / "hf2")[0] == hf_rows(prepared / "hf")[0]


def test_folder_written_by_datasets_reads_identically(tmp_path, run_bertforge, shared_data):
    rng = np.random.default_rng(0)
    rows = {"input_ids": [], "token_type_ids": [], "attention_mask": [], "sentence_order_label": []}
    for i in range(2500):  # padded rows, as the reference stores them, and unpadded ones
        a, b, pad = rng.integers(1, 40), rng.integers(1, 40), rng.integers(0, 2) * rng.integers(0, 30)
        ids = [101] + rng.integers(999, 28996, a).tolist() + [102] + rng.integers(999, 28996, b).tolist() + [102]
        types = [0] * (a + 2) + [1] * (b + 1)
        rows["input_ids"].append(ids + [0] * pad)
        rows["token_type_ids"].append(types + [0] * pad)
        rows["attention_mask"].append([1] * len(ids) + [0] * pad)
        rows["sentence_order_label"].append(int(rng.integers(0, 2)))
    features = datasets.Features({
        "input_ids": datasets.Sequence(datasets.Value("int32")),
        "token_type_ids": datasets.Sequence(datasets.Value("int8")),
        "attention_mask": datasets.Sequence(datasets.Value("int8")),
        "sentence_order_label": datasets.Value("int64")})
    datasets.Dataset.from_dict(rows, features=features).save_to_disk(str(tmp_path / "hf"), num_shards=3)
    run_bertforge("prepare", tmp_path / "hf", "--vocab", shared_data(VOCAB), "-o", tmp_path / "shards")
    manifest = json.loads((tmp_path / "shards" / "manifest.json").read_text())
    assert manifest["task"] == "sop"
    ours = read_shards(tmp_path / "shards")
    expected = [(ids[:sum(m)], t[:sum(m)], l) for ids, t, m, l in zip(
        rows["input_ids"], rows["token_type_ids"], rows["attention_mask"], rows["sentence_order_label"])]
    assert ours == expected


def test_reference_dataset_imports(tmp_path, run_bertforge, shared_data):
    ref = shared_data("rocm-blog/wikiTokenizedValid.hf")
    run_bertforge("prepare", ref, "--vocab", shared_data(VOCAB), "-o", tmp_path / "ref")
    theirs, _ = hf_rows(ref)
    assert read_shards(tmp_path / "ref") == theirs
    stats = json.loads((tmp_path / "ref" / "manifest.json").read_text())["statistics"]
    assert stats["sequences"] == 3083 and stats["labels"] == {"0": 1065, "1": 2018}


def test_text_jsonl_parquet_and_hf_text_give_the_same_shards(tmp_path, run_bertforge, shared_data):
    docs = ["The first document. It has two sentences.", "Second one here. Mr. Smith agrees. Fine.",
            "A third, with 3.5 points. Done."] * 20
    (tmp_path / "c.txt").write_text("\n\n".join(docs) + "\n")
    (tmp_path / "c.jsonl").write_text("".join(json.dumps({"text": d}) + "\n" for d in docs))
    pq.write_table(pa.table({"text": docs}), tmp_path / "c.parquet", row_group_size=7)
    datasets.Dataset.from_dict({"text": docs}).save_to_disk(str(tmp_path / "hf_text"))
    outputs = []
    for name in ["c.txt", "c.jsonl", "c.parquet", "hf_text"]:
        out = tmp_path / ("out_" + name)
        run_bertforge("prepare", tmp_path / name, "--vocab", shared_data(VOCAB), "-o", out, "--layout",
                      "blocks" if name == "c.txt" else "record", "--strategy", "segment")
        outputs.append((out / "shard-00000.bin").read_bytes())
    assert outputs[0] == outputs[1] == outputs[2] == outputs[3]


def test_same_output_whatever_the_thread_count(tmp_path, run_bertforge, shared_data):
    src = shared_data("wikitext-103-raw/wiki.valid.raw")
    for threads in (1, 2):
        run_bertforge("prepare", src, "--vocab", shared_data(VOCAB), "-o", tmp_path / f"t{threads}", "--threads",
                      threads, "--chunk-mb", "0.2", "--strategy", "segment", "--dupe_factor", "2")
    assert (tmp_path / "t1" / "shard-00000.bin").read_bytes() == (tmp_path / "t2" / "shard-00000.bin").read_bytes()


def test_bad_inputs_name_file_and_position(tmp_path, run_bertforge, shared_data):
    vocab = shared_data(VOCAB)
    ref = shared_data("rocm-blog/wikiTokenizedValid.hf")
    cut = tmp_path / "cut"
    cut.mkdir()
    for f in ("state.json", "dataset_info.json"):
        (cut / f).write_bytes((ref / f).read_bytes())
    data = (ref / "data-00000-of-00001.arrow").read_bytes()
    (cut / "data-00000-of-00001.arrow").write_bytes(data[: len(data) // 2])
    proc = run_bertforge("prepare", cut, "--vocab", vocab, "-o", tmp_path / "o1", check=False)
    assert proc.returncode == 1 and "data-00000-of-00001.arrow:" in proc.stderr
    assert not (tmp_path / "o1" / "manifest.json").exists()

    small_vocab = tmp_path / "vocab.txt"
    small_vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(200)]))
    proc = run_bertforge("prepare", ref, "--vocab", small_vocab, "-o", tmp_path / "o2", check=False)
    assert proc.returncode == 1
    assert "data-00000-of-00001.arrow:1: input_ids holds" in proc.stderr and "outside the vocabulary" in proc.stderr

    pq.write_table(pa.table({"text": ["x"] * 1000}), tmp_path / "t.parquet")
    blob = (tmp_path / "t.parquet").read_bytes()
    (tmp_path / "t.parquet").write_bytes(blob[:-20])
    proc = run_bertforge("prepare", tmp_path / "t.parquet", "--vocab", vocab, "-o", tmp_path / "o3", check=False)
    assert proc.returncode == 1 and "t.parquet:" in proc.stderr and proc.stderr.count("\n") == 1

    datasets.Dataset.from_dict({"input_ids": [[101, 1103, 102, 1142, 102]], "token_type_ids": [[0, 0, 0, 1, 1, 1]],
                                "attention_mask": [[1, 1, 1, 1, 1]], "next_sentence_label": [0]}
                               ).save_to_disk(str(tmp_path / "types"))
    proc = run_bertforge("prepare", tmp_path / "types", "--vocab", vocab, "-o", tmp_path / "o5", check=False)
    assert proc.returncode == 1 and ":1: token_type_ids length differs from input_ids" in proc.stderr

    (tmp_path / "bad.txt").write_bytes(b"Good text here. More of it.\nBad \xff byte. Skipped.\n\nAnother doc. Yes.\n")
    proc = run_bertforge("prepare", tmp_path / "bad.txt", "--vocab", vocab, "-o", tmp_path / "o4")
    assert "bad.txt:2: invalid UTF-8, skipped" in proc.stderr
    assert json.loads((tmp_path / "o4" / "manifest.json").read_text())["corpus"]["skipped_invalid_utf8"] == 1


def test_dry_run_plans_what_prepare_then_does(prepared, run_bertforge, shared_data):
    # wiki.valid.raw fits in the 4 MB sample, so the plan's pairs and tokens are exact.
    plan = json.loads(run_bertforge("prepare", shared_data("wikitext-103-raw/wiki.valid.raw"), "--vocab",
                                    shared_data(VOCAB), "--dry-run").stdout)
    manifest = json.loads((prepared / "shards" / "manifest.json").read_text())
    assert plan["documents"] == manifest["corpus"]["documents"] == 60
    assert plan["sentences"] == manifest["corpus"]["sentences"]
    assert plan["expected_pairs"] == manifest["statistics"]["sequences"]
    assert plan["expected_tokens"] == manifest["statistics"]["tokens"]
    assert 0 < plan["disk_bytes"] and 0 < plan["ram_bytes"] < 1e9 and plan["eta_seconds"] > 0
