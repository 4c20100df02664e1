"""prepare never loses a dataset: it builds into a temporary folder and swaps it in only when complete, and
replaces an existing dataset only with --overwrite. Every failing re-run (a bad option, a bad input line, an
empty corpus, a full disk) leaves the old dataset byte for byte as it was, and usable.

Also: token ids outside the vocabulary in a shard, and flipped bytes in a shard, are named when the data is
opened, not hours into a run.
"""
import json
import resource
import signal
import struct

import pytest

VOCAB = "vocab/bert-base-uncased/vocab.txt"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, kjv):
    path = tmp_path_factory.mktemp("safety_data") / "kjv.txt"
    path.write_text(kjv("gen1:1-gen6:22"))
    return path


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def prepare(run_bertforge, shared_data, src, out, *extra, **kw):
    return run_bertforge("prepare", src, "--vocab", shared_data(VOCAB), "-o", out, "--threads", "1",
                         "--max_seq_length", "64", *extra, **kw)


def assert_usable(run_bertforge, shared_data, folder, tmp_path):
    """The folder still opens as a dataset and trains: one step reads it through the checked reader."""
    proc = run_bertforge("pretrain", "--model", "tiny", "--train_data", folder, "--output_dir", tmp_path / "probe",
                         "--max_steps", "1", "--save_strategy", "no", "--threads", "1", "--device", "cpu",
                         "--per_device_train_batch_size", "2", "--overwrite_output_dir", check=False)
    assert proc.returncode == 0, proc.stderr


def test_failing_reruns_leave_the_dataset_intact(run_bertforge, shared_data, corpus, tmp_path):
    out = tmp_path / "data"
    prepare(run_bertforge, shared_data, corpus, out)
    before = snapshot(out)
    assert "manifest.json" in before

    proc = prepare(run_bertforge, shared_data, corpus, out, check=False)
    assert proc.returncode == 1 and str(out) in proc.stderr and "--overwrite" in proc.stderr, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr

    bad_jsonl = tmp_path / "bad.jsonl"
    bad_jsonl.write_text('{"text": "In the beginning. And the earth."}\nnot json\n')
    empty = tmp_path / "empty.txt"
    empty.write_text("")

    def small_files():  # a full disk: any file past 4 KiB fails to write (EFBIG), as ENOSPC would
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    failing = {
        "bad option": ([corpus, "--dupe_factor", "0"], {}, "dupe_factor"),
        "bad input line": ([bad_jsonl], {}, "bad.jsonl:2:"),
        "empty corpus": ([empty], {}, "no training sequences"),
        "full disk": ([corpus], {"preexec_fn": small_files}, f"{out}/shard-00000.bin: write failed (disk full?)"),
    }
    for name, (args, kw, says) in failing.items():
        proc = run_bertforge("prepare", *args, "--vocab", shared_data(VOCAB), "-o", out, "--threads", "1",
                             "--max_seq_length", "64", "--overwrite", check=False, **kw)
        assert proc.returncode != 0 and says in proc.stderr, (name, proc.stderr)
        # The error names files as the user knows them, never the temporary folder that is gone by now.
        assert ".tmp-" not in proc.stderr, (name, proc.stderr)
        assert snapshot(out) == before, name
        assert not list(tmp_path.glob("data.*")), (name, list(tmp_path.glob("data.*")))
    assert_usable(run_bertforge, shared_data, out, tmp_path)

    # --overwrite replaces it once the new one is complete (here: other options, so other shards).
    prepare(run_bertforge, shared_data, corpus, out, "--overwrite", "--seed", "7")
    after = snapshot(out)
    assert after != before and json.loads(after["manifest.json"])["options"]["seed"] == 7
    assert not list(tmp_path.glob("data.*"))


def test_a_folder_that_is_not_a_dataset_is_never_replaced(run_bertforge, shared_data, corpus, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    for extra in ([], ["--overwrite"]):
        proc = prepare(run_bertforge, shared_data, corpus, out, *extra, check=False)
        assert proc.returncode == 1 and "is not a prepared dataset" in proc.stderr, proc.stderr
        assert (out / "notes.txt").read_text() == "keep me" and len(list(out.iterdir())) == 1
    proc = prepare(run_bertforge, shared_data, corpus, tmp_path / "d", "--export-hf", out, check=False)
    assert proc.returncode == 1 and "is not an HF dataset" in proc.stderr and not (tmp_path / "d").exists()


def test_export_hf_is_replaced_only_with_overwrite(run_bertforge, shared_data, corpus, tmp_path):
    prepare(run_bertforge, shared_data, corpus, tmp_path / "d", "--export-hf", tmp_path / "hf")
    before = snapshot(tmp_path / "hf")
    proc = prepare(run_bertforge, shared_data, corpus, tmp_path / "d2", "--export-hf", tmp_path / "hf", check=False)
    assert proc.returncode == 1 and "hf: already holds an HF dataset" in proc.stderr, proc.stderr
    assert not (tmp_path / "d2").exists() and snapshot(tmp_path / "hf") == before
    prepare(run_bertforge, shared_data, corpus, tmp_path / "d2", "--export-hf", tmp_path / "hf", "--overwrite")
    assert (tmp_path / "hf" / "state.json").exists() and not list(tmp_path.glob("hf.*"))
