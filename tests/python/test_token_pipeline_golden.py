"""tests/golden/token_pipeline.json, the oracle of tests/text/tokenizer_offsets_test.cpp and
tests/infer/entities_test.cpp, against what its generator (tools/gen_golden/token_pipeline.py) gets from the
pinned HF now: the same ids, offsets and entities, and every probability and score within
tests/common/tolerance.json's fp32 CPU row, so an upgraded HF or an edited generator cannot leave a stale file
behind.
"""
import importlib.util
import json
import pathlib

from tolerance import TABLE, json_differences

SOURCE_DIR = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = SOURCE_DIR / "tests" / "golden" / "token_pipeline.json"


def generator():
    spec = importlib.util.spec_from_file_location("token_pipeline",
                                                  SOURCE_DIR / "tools" / "gen_golden" / "token_pipeline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_golden_is_what_hf_gives_now():
    fresh = json.loads(json.dumps(generator().build()))  # the file's own types: tuples become lists
    # The probabilities are a forward pass of HF's model on this host's CPU kernels, and the scores come from
    # them: on another host (AMX against AVX-512) they round apart by the fp32 CPU row, while token_pipeline
    # holds bertforge's scores to HF's given the same probabilities.
    values = TABLE["cpu"]["float32"]["values"]
    found = json_differences(fresh, json.loads(GOLDEN.read_text()), lambda f, c: abs(f - c) <= values * (1 + abs(c)))
    assert not found, ("tests/golden/token_pipeline.json is stale; regenerate it with "
                       "tools/gen_golden/token_pipeline.py:\n" + "\n".join(found[:20]))
