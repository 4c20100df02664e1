"""Writes tests/golden/task_metrics.json: the fine-tuning metrics as scikit-learn, SciPy and seqeval compute
them, the oracle for tests/eval/task_metrics_test.cpp (src/bertforge/eval/task_metrics.h). Seeded, so the same
versions write the same file; tests/python/test_task_metrics_golden.py checks the committed file against what
the pinned oracles give now.

What HF reports is rebuilt here from the calls HF makes, since evaluate.load() needs the Hub:
  glue       evaluate's metrics/glue/glue.py _compute (simple_accuracy, acc_and_f1, pearson_and_spearman,
             matthews_corrcoef) and run_glue.py's combined_score (the mean of the values when several)
  no task    run_glue.py / run_classification.py defaults: accuracy (single-label), mse (regression), and
             f1 of evaluate's "multilabel" config with average="micro" (multi-label)
  seqeval    evaluate's metrics/seqeval/seqeval.py _compute: classification_report(output_dict=True, mode=None,
             scheme=None, suffix=False, zero_division="warn") and seqeval's accuracy_score
NaN (Pearson or Spearman of a constant input) is written as null, which JSON can hold and NaN it cannot.

Run: ~/.local/share/bertforge/venv/bin/python tools/gen_golden/task_metrics.py
"""
import json
import math
import pathlib
import warnings
from importlib.metadata import version

import numpy as np
import scipy
import sklearn
from scipy.stats import pearsonr, spearmanr
from seqeval.metrics import accuracy_score as seq_accuracy
from seqeval.metrics import classification_report
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef, mean_squared_error

OUT = pathlib.Path(__file__).resolve().parents[2] / "tests" / "golden" / "task_metrics.json"
GLUE_TASKS = ["cola", "sst2", "mrpc", "qqp", "mnli", "mnli_matched", "mnli_mismatched", "qnli", "rte", "wnli",
              "hans", "stsb"]
TAGS = ["O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]


def num(x):
    x = float(x)
    return None if math.isnan(x) else x


def classification_cases(rng):
    return [
        ("binary_random", rng.integers(0, 2, 50), rng.integers(0, 2, 50)),
        ("three_class", rng.integers(0, 3, 60), rng.integers(0, 3, 60)),
        ("five_class_pred_only_class", rng.integers(0, 4, 37), rng.integers(0, 5, 37)),
        ("all_ones", np.ones(9, int), np.ones(9, int)),
        ("all_zeros", np.zeros(7, int), np.zeros(7, int)),
        ("all_wrong", np.array([0, 1, 1, 0, 1, 0]), np.array([1, 0, 0, 1, 0, 1])),
        ("gold_four_pred_one", np.array([0, 1, 2, 3, 0, 1, 2, 3]), np.full(8, 2)),
        ("binary_no_positive_pred", np.array([0, 1, 0, 1, 1]), np.zeros(5, int)),
        ("twelve_class", rng.integers(0, 12, 59), rng.integers(0, 12, 59)),
    ]


def classification(rng):
    out = []
    for name, ref, pred in classification_cases(rng):
        row = {"name": name, "references": ref.tolist(), "predictions": pred.tolist(),
               "accuracy": num(accuracy_score(ref, pred)),
               "f1_macro": num(f1_score(ref, pred, average="macro")),
               "matthews_correlation": num(matthews_corrcoef(ref, pred))}
        try:
            row["f1"] = num(f1_score(ref, pred))
        except ValueError:  # not binary, or two classes without 1: sklearn refuses, and so must we
            row["f1"] = "error"
        out.append(row)
    return out


def regression_cases(rng):
    x = rng.normal(size=40)
    linear = rng.normal(size=12)
    return [
        ("random", x, 0.6 * x + rng.normal(size=40)),
        ("ties", np.round(rng.normal(size=30), 1), np.round(rng.normal(size=30) * 2) / 2),
        ("constant_prediction", rng.normal(size=10), np.full(10, 0.25)),
        ("constant_both", np.full(5, 3.0), np.full(5, 3.0)),
        ("linear", linear, 2.5 * linear - 1.0),
        ("anti", linear, -linear),
        ("two_points", np.array([1.0, 2.0]), np.array([0.5, -4.0])),
        ("offset", 1000 + rng.normal(size=25), 1000 + rng.normal(size=25)),
        ("stsb_like", np.round(rng.uniform(0, 5, 33), 2), rng.uniform(0, 5, 33)),
    ]


def regression(rng):
    out = []
    for name, ref, pred in regression_cases(rng):
        out.append({"name": name, "references": ref.tolist(), "predictions": pred.tolist(),
                    "pearson": num(pearsonr(pred, ref)[0]), "spearmanr": num(spearmanr(pred, ref)[0]),
                    "mse": num(mean_squared_error(ref, pred))})
    return out


def multi_label(rng):
    cases = [("random", rng.integers(0, 2, (15, 4)), rng.integers(0, 2, (15, 4))),
             ("all_zero", np.zeros((6, 3), int), np.zeros((6, 3), int)),
             ("perfect", np.eye(5, dtype=int), np.eye(5, dtype=int)),
             ("sparse", (rng.uniform(size=(20, 7)) < 0.15).astype(int), (rng.uniform(size=(20, 7)) < 0.2).astype(int))]
    out = []
    for name, ref, pred in cases:
        f1 = f1_score(ref, pred, average="micro")
        out.append({"name": name, "labels_per_row": int(ref.shape[1]), "references": ref.reshape(-1).tolist(),
                    "predictions": pred.reshape(-1).tolist(), "f1": num(f1)})
    return out


def glue(task, pred, ref):  # evaluate's metrics/glue/glue.py, then run_glue.py's combined_score
    if task == "cola":
        result = {"matthews_correlation": matthews_corrcoef(ref, pred)}
    elif task == "stsb":
        result = {"pearson": float(pearsonr(pred, ref)[0]), "spearmanr": float(spearmanr(pred, ref)[0])}
    elif task in ("mrpc", "qqp"):
        result = {"accuracy": float((pred == ref).mean()), "f1": float(f1_score(y_true=ref, y_pred=pred))}
    else:
        result = {"accuracy": float((pred == ref).mean())}
    if len(result) > 1:
        result["combined_score"] = np.mean(list(result.values())).item()
    return {k: num(v) for k, v in result.items()}


def sequence_metrics(rng):
    out = []

    def add(task, problem, ref, pred, want, labels_per_row=1):
        out.append({"task": task, "problem": problem, "labels_per_row": labels_per_row,
                    "references": np.asarray(ref).reshape(-1).tolist(),
                    "predictions": np.asarray(pred).reshape(-1).tolist(), "want": want})

    for task in GLUE_TASKS:
        if task == "stsb":
            ref = np.round(rng.uniform(0, 5, 30), 2)
            pred = ref + rng.normal(scale=0.8, size=30)
            add(task, "regression", ref, pred, glue(task, pred, ref))
        else:
            classes = 3 if task.startswith("mnli") else 2
            ref, pred = rng.integers(0, classes, 40), rng.integers(0, classes, 40)
            add(task, "single_label_classification", ref, pred, glue(task, pred, ref))
    ref, pred = rng.integers(0, 4, 25), rng.integers(0, 4, 25)
    add("", "single_label_classification", ref, pred, {"accuracy": num(accuracy_score(ref, pred))})
    ref, pred = rng.normal(size=20), rng.normal(size=20)
    add("", "regression", ref, pred, {"mse": num(mean_squared_error(ref, pred))})
    ref, pred = rng.integers(0, 2, (12, 5)), rng.integers(0, 2, (12, 5))
    add("", "multi_label_classification", ref, pred, {"f1": num(f1_score(ref, pred, average="micro"))}, 5)
    return out


def random_sentences(rng, count):
    return [[TAGS[i] for i in rng.integers(0, len(TAGS), rng.integers(1, 13))] for _ in range(count)]


def token_cases(rng):
    gold = random_sentences(rng, 20)
    noisy = [[t if rng.uniform() < 0.7 else TAGS[rng.integers(0, len(TAGS))] for t in s] for s in gold]
    return [
        ("hf_doc_example", [["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]],
         [["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]]),
        ("random", gold, noisy),
        ("iob1", [["I-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-LOC"]],
         [["I-PER", "I-PER", "O", "I-LOC", "I-LOC", "I-LOC"]]),
        ("i_after_other_type", [["B-PER", "I-LOC", "I-LOC", "O", "I-PER"]],
         [["B-PER", "I-PER", "I-LOC", "O", "I-PER"]]),
        ("ioe_iobes", [["I-PER", "E-PER", "S-LOC", "B-ORG", "E-ORG", "E-ORG"]],
         [["B-PER", "E-PER", "S-LOC", "B-ORG", "I-ORG", "E-ORG"]]),
        ("untyped_and_dots", [["B", "I", "O", ".", "I", "B-X-Y", "I-X-Y", "I-"]],
         [["B", "I", ".", ".", "B", "B-X-Y", "I-X", "B-"]]),
        ("across_sentences", [["O", "B-PER"], ["I-PER", "O"]], [["O", "B-PER"], ["I-PER", "O"]]),
        ("no_entities", [["O", "O"], ["O"]], [["O", "O"], ["O"]]),
        ("no_predicted_entities", [["B-LOC", "O"], ["B-PER"]], [["O", "O"], ["O"]]),
        ("no_gold_entities", [["O", "O", "O"]], [["B-LOC", "I-LOC", "O"]]),
    ]


def seqeval_scores(gold, pred):  # evaluate's metrics/seqeval/seqeval.py _compute, default config
    report = classification_report(y_true=gold, y_pred=pred, suffix=False, output_dict=True, scheme=None,
                                   mode=None, sample_weight=None, zero_division="warn")
    report.pop("macro avg")
    report.pop("weighted avg")
    overall = report.pop("micro avg")
    want = {}
    for type_name, s in report.items():  # run_ner.py's return_entity_level_metrics flattening
        want.update({f"{type_name}_precision": num(s["precision"]), f"{type_name}_recall": num(s["recall"]),
                     f"{type_name}_f1": num(s["f1-score"]), f"{type_name}_number": int(s["support"])})
    want.update({"overall_precision": num(overall["precision"]), "overall_recall": num(overall["recall"]),
                 "overall_f1": num(overall["f1-score"]), "overall_accuracy": num(seq_accuracy(gold, pred))})
    return want


def build():
    rng = np.random.default_rng(20261207)
    # The oracles warn where a score is undefined (UndefinedMetricWarning: set to 0; ConstantInputWarning: NaN)
    # and where a label is missing; the value they return then is what is compared.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "about": "Made by tools/gen_golden/task_metrics.py (read it for what each section holds); null is NaN.",
            "versions": {"scikit-learn": sklearn.__version__, "scipy": scipy.__version__,
                         "seqeval": version("seqeval"), "numpy": np.__version__},
            "classification": classification(rng),
            "regression": regression(rng),
            "multi_label": multi_label(rng),
            "sequence_metrics": sequence_metrics(rng),
            "token": [{"name": n, "references": g, "predictions": p, "want": seqeval_scores(g, p)}
                      for n, g, p in token_cases(rng)],
        }


if __name__ == "__main__":
    OUT.write_text(json.dumps(build(), separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
