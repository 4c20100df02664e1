"""tests/golden/task_metrics.json, the oracle of tests/eval/task_metrics_test.cpp, against what its generator
(tools/gen_golden/task_metrics.py) gets from scikit-learn, SciPy and seqeval now: the same cases, the same
versions (requirements.txt pins them), and every score within tests/common/tolerance.json's task_metrics row,
so an upgraded oracle or an edited generator cannot leave a stale file behind.
"""
import importlib.util
import json
import pathlib

from tolerance import TABLE, json_differences

SOURCE_DIR = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = SOURCE_DIR / "tests" / "golden" / "task_metrics.json"


def generator():
    spec = importlib.util.spec_from_file_location("task_metrics", SOURCE_DIR / "tools" / "gen_golden" / "task_metrics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_golden_is_what_the_oracles_give_now():
    fresh = json.loads(json.dumps(generator().build()))  # the file's own types: tuples become lists
    found = json_differences(fresh, json.loads(GOLDEN.read_text()), lambda f, c: abs(f - c) <= TABLE["task_metrics"] * (1 + abs(c)))
    assert not found, ("tests/golden/task_metrics.json is stale; regenerate it with tools/gen_golden/task_metrics.py:\n"
                       + "\n".join(found[:20]))
