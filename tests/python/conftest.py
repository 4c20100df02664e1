"""Shared fixtures for the Python interop tests: the bertforge binary, the test data and the KJV.

The test data is tests/fixtures/ (its README says where each file comes from), or the folder BERTFORGE_DATA
names instead; a missing file fails the test, since the data is part of the checkout.
"""
import os
import pathlib
import shutil
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
    """Returns a function rel -> pathlib.Path inside the test data, failing as above."""
    root = pathlib.Path(os.environ.get("BERTFORGE_DATA") or SOURCE_DIR / "tests" / "fixtures")

    def get(rel):
        path = root / rel
        if not path.exists():
            pytest.fail(f"test data missing: {path} (tests/fixtures/ or BERTFORGE_DATA)")
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
def kjv():
    """Returns a function range -> the KJV's verses in a `bible -f` range, one per line. Skips the test when
    Debian's bible-kjv (which scripts/setup.sh installs) is not there."""
    if shutil.which("bible") is None:
        pytest.skip("`bible` not found: the KJV comes from Debian's bible-kjv (scripts/setup.sh installs it)")
    return lambda verses: subprocess.run(["bible", "-f", verses], capture_output=True, text=True,
                                         check=True).stdout


@pytest.fixture(scope="session")
def tiny_kjv(tmp_path_factory, run_bertforge, shared_data, kjv):
    """A folder with kjv.txt (Genesis 1-6, from Debian's bible-kjv), data/ (prepared with tiny.VOCAB, 64
    tokens) and model/config.json (tiny.TINY): the Trainer tests' common ground, made once per session."""
    from transformers import BertConfig
    from tiny import TINY, VOCAB
    root = tmp_path_factory.mktemp("tiny_kjv")
    corpus = root / "kjv.txt"
    corpus.write_text(kjv("gen1:1-gen6:22"))
    run_bertforge("prepare", corpus, "--vocab", shared_data(VOCAB), "-o", root / "data", "--threads", "1",
                  "--max_seq_length", "64")
    BertConfig(**TINY).save_pretrained(root / "model")
    return root
