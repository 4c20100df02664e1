"""Shared fixtures for the Python interop tests: the bertforge binary and ../shared/data.

BERTFORGE_DATA (default ../shared/data beside the source tree): absent and unset -> tests skip visibly;
set but missing -> tests fail, so CI never passes by skipping.
"""
import os
import pathlib
import subprocess

import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("BERTFORGE_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))


@pytest.fixture(scope="session")
def bertforge_bin():
    path = os.environ.get("BERTFORGE_BIN", str(SOURCE_DIR / "build" / "bertforge"))
    if not os.path.exists(path):
        pytest.fail(f"bertforge binary not found at {path}; build first or set BERTFORGE_BIN")
    return path


@pytest.fixture(scope="session")
def shared_data():
    """Returns a function rel -> pathlib.Path inside the shared data, skipping or failing as above."""
    root = pathlib.Path(os.environ.get("BERTFORGE_DATA", SOURCE_DIR.parent / "shared" / "data"))

    def get(rel):
        path = root / rel
        if not path.exists():
            if os.environ.get("BERTFORGE_DATA"):
                pytest.fail(f"BERTFORGE_DATA is set but {path} is missing")
            pytest.skip(f"shared data absent: {path}")
        return path

    return get


@pytest.fixture(scope="session")
def run_bertforge(bertforge_bin):
    """Runs bertforge with args; returns CompletedProcess (text). check=False: tests assert on returncode."""

    def run(*args, input=None, check=True, **kw):
        proc = subprocess.run([bertforge_bin, *map(str, args)], input=input, capture_output=True, text=True, **kw)
        if check and proc.returncode != 0:
            raise AssertionError(f"bertforge {' '.join(map(str, args))} failed ({proc.returncode}): {proc.stderr}")
        return proc

    return run


@pytest.fixture(scope="session")
def tiny_kjv(tmp_path_factory, run_bertforge, shared_data):
    """A folder with kjv.txt (Genesis 1-6, from Debian's bible-kjv), data/ (prepared with tiny.VOCAB, 64
    tokens) and model/config.json (tiny.TINY): the Trainer tests' common ground, made once per session."""
    from transformers import BertConfig
    from tiny import TINY, VOCAB
    root = tmp_path_factory.mktemp("tiny_kjv")
    corpus = root / "kjv.txt"
    corpus.write_text(subprocess.run(["bible", "-f", "gen1:1-gen6:22"], capture_output=True, text=True,
                                     check=True).stdout)
    run_bertforge("prepare", corpus, "--vocab", shared_data(VOCAB), "-o", root / "data", "--threads", "1",
                  "--max_seq_length", "64")
    BertConfig(**TINY).save_pretrained(root / "model")
    return root
