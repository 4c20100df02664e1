"""tests/golden/token_pipeline.json, the oracle of tests/text/tokenizer_offsets_test.cpp and
tests/infer/entities_test.cpp, against what its generator (tools/gen_golden/token_pipeline.py) gets from the
pinned HF now: the same ids, offsets and entities, and every probability and score within
tests/common/tolerance.json's token_pipeline row, so an upgraded HF or an edited generator cannot leave a stale
file behind.
"""
import importlib.util
import json
import pathlib

from tolerance import TABLE

SOURCE_DIR = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = SOURCE_DIR / "tests" / "golden" / "token_pipeline.json"


def generator():
    spec = importlib.util.spec_from_file_location("token_pipeline",
                                                  SOURCE_DIR / "tools" / "gen_golden" / "token_pipeline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def differences(fresh, committed, where="$"):
    """Where the two JSON values differ: floats relative to the table's row, everything else exactly."""
    if isinstance(committed, float) and isinstance(fresh, (int, float)) and not isinstance(fresh, bool):
        ok = abs(fresh - committed) <= TABLE["token_pipeline"] * abs(committed)
        return [] if ok else [f"{where}: {fresh!r} now, {committed!r} committed"]
    if isinstance(committed, dict) and isinstance(fresh, dict):
        if fresh.keys() != committed.keys():
            return [f"{where}: keys {sorted(fresh)} now, {sorted(committed)} committed"]
        return [d for k in committed for d in differences(fresh[k], committed[k], f"{where}.{k}")]
    if isinstance(committed, list) and isinstance(fresh, list) and len(fresh) == len(committed):
        return [d for i, (f, c) in enumerate(zip(fresh, committed)) for d in differences(f, c, f"{where}[{i}]")]
    return [] if fresh == committed else [f"{where}: {fresh!r} now, {committed!r} committed"]


def test_golden_is_what_hf_gives_now():
    fresh = json.loads(json.dumps(generator().build()))  # the file's own types: tuples become lists
    found = differences(fresh, json.loads(GOLDEN.read_text()))
    assert not found, ("tests/golden/token_pipeline.json is stale; regenerate it with "
                       "tools/gen_golden/token_pipeline.py:\n" + "\n".join(found[:20]))
