"""`bertforge finetune` against HF as the oracle, for what a user observes of a fine-tuning run.

- Steps: HF Trainer trains the same initial classifier on exactly the micro-batches bertforge trained on (its
  --dump_batches, handed to HF epoch by epoch), with the same TrainingArguments and dropout 0; every logged
  step's loss, grad_norm, learning_rate and epoch, and the final weights, must be HF's within
  tests/common/tolerance.json's trainer_steps row. One case per head and problem type: sentence pairs
  (single-label), regression, multi-label and token classification (CoNLL).
- Evaluation: bertforge's eval_loss and metrics for the validation file equal HF Trainer.evaluate() on the
  same folder with HF's own tokenization of the file (tokenizer(a, b, truncation=True), DataCollatorWithPadding)
  and scikit-learn's metrics: the data path, the evaluation loop and the metrics at once.
- The folder: AutoModelForSequenceClassification and pipeline("text-classification") load it as it is, and
  `bertforge classify` prints the pipeline's labels and scores.
"""
import importlib.util
import json
import pathlib
import random
import shutil

import pytest
import torch
from safetensors.torch import load_file

from tiny import TINY, VOCAB
from tolerance import TABLE, tolerance, values_close

SOURCE_DIR = pathlib.Path(__file__).resolve().parents[2]
TOLERANCE = TABLE["trainer_steps"]
WORDS = ("the lord god said unto moses and aaron go forth into land of egypt with thy people sea waters light "
         "darkness earth heaven day night king israel").split()
ARGS = dict(per_device_train_batch_size=4, num_train_epochs=2, learning_rate=1e-3, warmup_steps=2, weight_decay=0.01,
            max_grad_norm=1.0, seed=7, optim="adamw_torch_fused", logging_steps=1, save_strategy="no")


def trainer_steps_module():
    spec = importlib.util.spec_from_file_location("trainer_steps", SOURCE_DIR / "tools" / "gen_golden" / "trainer_steps.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sentence(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def write_data(case, folder, rows, seed):
    """A training or validation file of `case` and its label list (bertforge's order: sorted)."""
    rng = random.Random(seed)
    if case == "pairs":
        path = folder / f"pairs-{seed}.jsonl"
        lines = []
        for _ in range(rows):
            a, b = sentence(rng, rng.randint(3, 12)), sentence(rng, rng.randint(3, 12))
            lines.append(json.dumps({"sentence1": a, "sentence2": b, "label": "same" if a[0] == b[0] else "other"}))
        path.write_text("\n".join(lines) + "\n")
        return path, ["other", "same"]
    if case == "regression":
        path = folder / f"scores-{seed}.csv"
        path.write_text("text,label\n" + "".join(f"{sentence(rng, rng.randint(2, 10))},{rng.uniform(0, 5):.3f}\n"
                                                 for _ in range(rows)))
        return path, ["LABEL_0"]
    if case == "multi_label":
        path = folder / f"multi-{seed}.jsonl"
        path.write_text("".join(json.dumps({"sentence": sentence(rng, rng.randint(2, 9)),
                                            "label": sorted(rng.sample(["law", "poetry", "story"], rng.randint(0, 2)))}) + "\n"
                                for _ in range(rows)))
        return path, ["law", "poetry", "story"]
    path = folder / f"ner-{seed}.conll"
    tags = ["B-PER", "I-PER", "O", "B-LOC", "I-LOC"]
    lines = []
    for _ in range(rows):
        for _ in range(rng.randint(2, 9)):
            lines.append(f"{rng.choice(WORDS)} NN O {rng.choice(tags)}")
        lines.append("")
    path.write_text("\n".join(lines) + "\n")
    return path, sorted(tags)


def initial_model(case, labels, folder):
    """An HF classifier of the tiny size, dropout 0, saved with the vocabulary: both trainers start from it."""
    import transformers
    transformers.set_seed(0)
    config = transformers.BertConfig(**TINY, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                                     num_labels=len(labels), id2label=dict(enumerate(labels)),
                                     label2id={n: i for i, n in enumerate(labels)})
    if case == "token":
        model = transformers.BertForTokenClassification(config)
    else:
        config.problem_type = {"pairs": "single_label_classification", "regression": "regression",
                               "multi_label": "multi_label_classification"}[case]
        model = transformers.BertForSequenceClassification(config)
    model.save_pretrained(folder)
    return model


def flags(args):
    return [str(x) for k, v in args.items() for x in (f"--{k}", v)]


@pytest.mark.parametrize("case", ["pairs", "regression", "multi_label", "token"])
def test_steps_match_hf_trainer(case, tmp_path, run_bertforge, shared_data):
    import transformers
    gen = trainer_steps_module()
    train_file, labels = write_data(case, tmp_path, 18, seed=1)
    start = tmp_path / "start"
    initial_model(case, labels, start)
    shutil.copy(shared_data(VOCAB), start / "vocab.txt")
    run_bertforge("finetune", "--model", start, "--train_file", train_file, "--output_dir", tmp_path / "run",
                  "--device", "cpu", "--threads", "1", "--quiet", "--dump_batches", tmp_path / "batches",
                  *(["--token_classification"] if case == "token" else []), *flags(ARGS))
    files = sorted((tmp_path / "batches").glob("batch-0-*.safetensors"))
    batches = [{k: v if v.is_floating_point() else v.long() for k, v in load_file(f).items()} for f in files]
    per_epoch = len(batches) // ARGS["num_train_epochs"]
    epochs = [batches[i:i + per_epoch] for i in range(0, len(batches), per_epoch)]
    model = transformers.AutoConfig.from_pretrained(start).architectures[0]
    model = getattr(transformers, model).from_pretrained(start)
    args = transformers.TrainingArguments(output_dir=str(tmp_path / "hf"), report_to=[], use_cpu=True,
                                          disable_tqdm=True, **ARGS)
    trainer = type("OnBertforgeBatches", (transformers.Trainer,),
                   {"get_train_dataloader": lambda self: gen.EpochBatches(epochs)})(model=model, args=args)
    trainer.train()
    hf = [e for e in trainer.state.log_history if "loss" in e]
    ours = [e for e in json.loads((tmp_path / "run" / "trainer_state.json").read_text())["log_history"] if "loss" in e]
    assert [e["step"] for e in ours] == [e["step"] for e in hf] and len(hf) == len(batches)
    assert [e["epoch"] for e in ours] == pytest.approx([e["epoch"] for e in hf], rel=1e-12)
    for key in ["loss", "grad_norm", "learning_rate"]:
        assert [e[key] for e in ours] == pytest.approx([e[key] for e in hf], rel=TOLERANCE[key], abs=0), key
    final = load_file(tmp_path / "run" / "model.safetensors")
    for name, want in trainer.model.state_dict().items():
        got = final[name]
        bad = ((got - want).abs() > TOLERANCE["weights"] * (1 + want.abs())).sum().item()
        assert bad == 0, f"{name}: {bad} weights differ (max {(got - want).abs().max().item():.3g})"


@pytest.fixture(scope="module")
def pairs_run(tmp_path_factory, run_bertforge, shared_data):
    """A sentence-pair classifier fine-tuned by bertforge with evaluation, and its validation file."""
    root = tmp_path_factory.mktemp("pairs")
    train_file, labels = write_data("pairs", root, 32, seed=1)
    valid_file, _ = write_data("pairs", root, 13, seed=2)
    initial_model("pairs", labels, root / "start")
    shutil.copy(shared_data(VOCAB), root / "start" / "vocab.txt")
    run_bertforge("finetune", "--model", root / "start", "--train_file", train_file, "--validation_file", valid_file,
                  "--output_dir", root / "run", "--device", "cpu", "--quiet", "--eval_strategy", "epoch",
                  "--per_device_eval_batch_size", "5", "--max_seq_length", "16", *flags(ARGS))
    return root / "run", valid_file


def test_evaluation_equals_hf_trainer_evaluate(pairs_run):
    import datasets
    import transformers
    from sklearn.metrics import accuracy_score
    folder, valid_file = pairs_run
    ours = json.loads((folder / "eval_results.json").read_text())
    model = transformers.AutoModelForSequenceClassification.from_pretrained(folder)
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    rows = datasets.load_dataset("json", data_files=str(valid_file))["train"]
    rows = rows.map(lambda r: tokenizer(r["sentence1"], r["sentence2"], truncation=True, max_length=16))
    rows = rows.map(lambda r: {"label": model.config.label2id[r["label"]]}).remove_columns(["sentence1", "sentence2"])
    args = transformers.TrainingArguments(output_dir=str(folder.parent / "hf-eval"), report_to=[], use_cpu=True,
                                          per_device_eval_batch_size=5)
    metrics = lambda p: {"accuracy": accuracy_score(p.label_ids, p.predictions.argmax(-1))}
    hf = transformers.Trainer(model=model, args=args, eval_dataset=rows, compute_metrics=metrics,
                              data_collator=transformers.DataCollatorWithPadding(tokenizer)).evaluate()
    assert ours["eval_samples"] == len(rows)
    assert ours["eval_loss"] == pytest.approx(hf["eval_loss"], rel=tolerance()["loss"])
    assert ours["eval_accuracy"] == hf["eval_accuracy"]


def test_pipeline_loads_the_folder_and_classify_prints_its_scores(pairs_run, run_bertforge):
    import transformers
    folder, _ = pairs_run
    pipe = transformers.pipeline("text-classification", model=str(folder), device="cpu")
    inputs = [("the lord said unto moses", "the king of egypt"), ("light and darkness", "the day and the night")]
    for a, b in inputs:
        want = pipe({"text": a, "text_pair": b}, top_k=None)
        got = json.loads(run_bertforge("classify", "--model", folder, a, b, "--json", "--top_k", "0").stdout)
        assert [g["label"] for g in got] == [w["label"] for w in want]
        values_close([g["score"] for g in got], [w["score"] for w in want], tolerance(), "scores")
    top = json.loads(run_bertforge("classify", "--model", folder, *inputs[0], "--json").stdout)
    assert len(top) == 1 and top[0]["label"] == pipe({"text": inputs[0][0], "text_pair": inputs[0][1]})["label"]


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("case", ["pairs", "token"])
def test_two_ranks_train_and_evaluate_as_one_process(case, tmp_path, run_bertforge, shared_data):
    """`bertforge launch` with 2 ranks x batch 4 equals 1 process x batch 8: the loss is the mean over the
    global batch's sequences (labelled tokens for the token head), and the evaluation gathers both ranks'
    predictions (13 rows: the shards differ by one). The token head's eval_loss is left out: HF's eval_loss
    weighs each batch's mean over its labelled tokens by the batch's rows, so it depends on how the rows fall
    into batches, which the ranks change (HF Trainer's does the same)."""
    train_file, labels = write_data(case, tmp_path, 24, seed=1)
    valid_file, _ = write_data(case, tmp_path, 13, seed=2)
    initial_model(case, labels, tmp_path / "start")
    shutil.copy(shared_data(VOCAB), tmp_path / "start" / "vocab.txt")
    common = ["finetune", "--model", tmp_path / "start", "--train_file", train_file, "--validation_file", valid_file,
              "--device", "cpu", "--threads", "1", "--quiet", "--eval_strategy", "epoch",
              "--per_device_eval_batch_size", "3", *(["--token_classification"] if case == "token" else []),
              *flags(dict(ARGS, per_device_train_batch_size=8))]
    run_bertforge(*common, "--output_dir", tmp_path / "one")
    two = [a if a != "8" else "4" for a in common]
    run_bertforge("launch", "--master-port", free_port(), "--nproc-per-node", "2", "--", *two,
                  "--output_dir", tmp_path / "two")
    logs = [json.loads((tmp_path / run / "trainer_state.json").read_text())["log_history"] for run in ("one", "two")]
    assert [sorted(e) for e in logs[0]] == [sorted(e) for e in logs[1]]
    for a, b in zip(*logs):
        for key in ["loss", "grad_norm", "eval_loss", "eval_accuracy", "eval_overall_f1", "eval_overall_accuracy"]:
            if key in a and not (case == "token" and key == "eval_loss"):
                assert b[key] == pytest.approx(a[key], rel=TOLERANCE["loss"]), key
    results = [json.loads((tmp_path / run / "eval_results.json").read_text()) for run in ("one", "two")]
    assert results[0]["eval_samples"] == results[1]["eval_samples"] == 13
    one, two = (load_file(tmp_path / run / "model.safetensors") for run in ("one", "two"))
    for name, want in one.items():
        bad = ((two[name] - want).abs() > TOLERANCE["weights"] * (1 + want.abs())).sum().item()
        assert bad == 0, f"{name}: {bad} weights differ"


def test_resume_continues_exactly_and_metrics_choose_the_best(tmp_path, run_bertforge, shared_data):
    """A run resumed from its first epoch's checkpoint ends as the uninterrupted run does (log and weights, bit
    for bit on the CPU), and metric_for_best_model takes a task metric by HF's name."""
    train_file, labels = write_data("pairs", tmp_path, 20, seed=1)
    valid_file, _ = write_data("pairs", tmp_path, 9, seed=2)
    initial_model("pairs", labels, tmp_path / "start")
    shutil.copy(shared_data(VOCAB), tmp_path / "start" / "vocab.txt")
    args = ["finetune", "--model", tmp_path / "start", "--train_file", train_file, "--validation_file", valid_file,
            "--device", "cpu", "--threads", "1", "--quiet", "--eval_strategy", "epoch", "--save_strategy", "epoch",
            "--metric_for_best_model", "accuracy", "--load_best_model_at_end", "true",
            *flags({k: v for k, v in ARGS.items() if k != "save_strategy"})]
    run_bertforge(*args, "--output_dir", tmp_path / "full")
    shutil.copytree(tmp_path / "full" / "checkpoint-5", tmp_path / "resumed" / "checkpoint-5")
    run_bertforge(*args, "--output_dir", tmp_path / "resumed", "--resume_from_checkpoint", "latest")
    full, resumed = (json.loads((tmp_path / run / "trainer_state.json").read_text()) for run in ("full", "resumed"))
    # train_loss is the mean over the steps this process ran, in HF's Trainer as here: it differs after a resume.
    strip = lambda h: [{k: v for k, v in e.items() if "runtime" not in k and "per_second" not in k and k != "train_loss"}
                       for e in h]
    assert strip(full["log_history"]) == strip(resumed["log_history"])
    evals = [e["eval_accuracy"] for e in full["log_history"] if "eval_accuracy" in e]
    assert full["best_metric"] == max(evals)
    assert full["best_model_checkpoint"].endswith(f"checkpoint-{5 * (evals.index(max(evals)) + 1)}")
    a, b = (load_file(tmp_path / run / "model.safetensors") for run in ("full", "resumed"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_token_classify_prints_the_pipeline_entities(tmp_path, run_bertforge, shared_data):
    """A token classifier fine-tuned by bertforge, loaded by pipeline("token-classification",
    aggregation_strategy="simple"): `bertforge classify` prints the same entities (group, word, span) and
    scores. The classifier starts with large weights so that the winning tag changes from token to token."""
    import transformers
    train_file, labels = write_data("token", tmp_path, 12, seed=1)
    model = initial_model("token", labels, tmp_path / "start")
    with torch.no_grad():
        model.classifier.weight.normal_(0, 3.0)
    model.save_pretrained(tmp_path / "start")
    shutil.copy(shared_data(VOCAB), tmp_path / "start" / "vocab.txt")
    run_bertforge("finetune", "--model", tmp_path / "start", "--train_file", train_file, "--output_dir",
                  tmp_path / "run", "--device", "cpu", "--quiet", "--token_classification", *flags(ARGS))
    pipe = transformers.pipeline("token-classification", model=str(tmp_path / "run"), aggregation_strategy="simple",
                                 device="cpu")
    texts = ["Moses and Aaron went forth into the land of Egypt.", "The King of Israel said unto thy people: go!",
             "Élan naïve façade, Jérusalem."]
    groups = 0
    for text in texts:
        want = pipe(text)
        got = json.loads(run_bertforge("classify", "--model", tmp_path / "run", text, "--json").stdout)
        assert [(g["entity_group"], g["word"], g["start"], g["end"]) for g in got] == \
               [(w["entity_group"], w["word"], w["start"], w["end"]) for w in want]
        values_close([g["score"] for g in got], [float(w["score"]) for w in want], tolerance(), "scores")
        groups += len(want)
    assert groups >= 5


def test_bad_input_is_one_line_naming_file_row_and_column(tmp_path, run_bertforge, shared_data):
    """An unknown label at evaluation and a missing column stop the run before any step, in one line that
    names the file, the row and the column; nothing is written to output_dir beyond its lock."""
    train_file, labels = tmp_path / "train.jsonl", ["other", "same"]
    train_file.write_text("".join(json.dumps({"sentence1": "a", "sentence2": "b", "label": x}) + "\n" for x in labels))
    (tmp_path / "valid.jsonl").write_text('{"sentence1": "a b", "sentence2": "c", "label": "same"}\n'
                                          '{"sentence1": "a b", "sentence2": "c", "label": "maybe"}\n')
    (tmp_path / "nolabel.jsonl").write_text('{"sentence1": "a b", "sentence2": "c"}\n')
    initial_model("pairs", labels, tmp_path / "start")
    shutil.copy(shared_data(VOCAB), tmp_path / "start" / "vocab.txt")
    common = ["finetune", "--model", tmp_path / "start", "--device", "cpu", "--quiet"]
    for train, valid, where in [(train_file, tmp_path / "valid.jsonl", f"{tmp_path / 'valid.jsonl'}:2"),
                                (tmp_path / "nolabel.jsonl", None, f"{tmp_path / 'nolabel.jsonl'}:1")]:
        out = tmp_path / f"out-{where.rsplit(':', 1)[1]}"
        proc = run_bertforge(*common, "--train_file", train, *(["--validation_file", valid] if valid else []),
                             "--output_dir", out, check=False)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 1 and len(lines) == 1, proc.stderr
        assert lines[0].startswith(f"bertforge finetune: {where}:") and "label" in lines[0], lines[0]
        assert not list(out.glob("checkpoint-*")) and not (out / "model.safetensors").exists()


def test_bf16_and_nan_policy_are_the_trainers(tmp_path, run_bertforge, shared_data):
    """finetune runs on the Trainer pretrain uses: --bf16 trains (a finite loss near the fp32 run's), and a
    non-finite step (the fault hook) is skipped under nan_policy skip, logged as skipped_steps."""
    import os
    train_file, labels = write_data("pairs", tmp_path, 16, seed=1)
    initial_model("pairs", labels, tmp_path / "start")
    shutil.copy(shared_data(VOCAB), tmp_path / "start" / "vocab.txt")
    common = ["finetune", "--model", tmp_path / "start", "--train_file", train_file, "--device", "cpu", "--quiet",
              *flags(ARGS)]
    losses = {}
    for run, extra in [("fp32", []), ("bf16", ["--bf16"])]:
        run_bertforge(*common, *extra, "--output_dir", tmp_path / run)
        log = json.loads((tmp_path / run / "trainer_state.json").read_text())["log_history"]
        losses[run] = [e["loss"] for e in log if "loss" in e]
    assert losses["bf16"] == pytest.approx(losses["fp32"], rel=tolerance("cpu", "bfloat16")["loss"])
    run_bertforge(*common, "--nan_policy", "skip", "--output_dir", tmp_path / "skip",
                  env=dict(os.environ, BERTFORGE_FAULT_NONFINITE_STEPS="3"))
    log = json.loads((tmp_path / "skip" / "trainer_state.json").read_text())["log_history"]
    assert [e.get("skipped_steps", 0) for e in log if "loss" in e][2:4] == [1, 1]
