"""What happens when, against HF Trainer: a differential harness over a matrix of TrainingArguments.

For every case HF Trainer (the pinned transformers) and `bertforge pretrain` train the same tiny BERT on the same
HF dataset (20 random NSP pairs over tests/golden/trainer_steps' 300-word vocabulary, words drawn by Zipf's law so
that the evaluation loss falls steadily, and 200 for evaluation, so that the random masks of HF's evaluations move
it less than training does and "the best checkpoint" names the same step on both sides) with the same arguments, and what a user can observe must agree: the steps of every training-loss log, evaluation and
save; the checkpoint folders left after rotation; the final global_step and epoch; every log_history entry's
keys and epoch; the learning rate of every logged step; the trainer_state.json fields HF writes, in the last
checkpoint and at the end. The loss values are not compared here (the masks and initial weights differ):
tests/python/test_trainer_golden.py holds the numbers to HF's step by step.

Deliberate differences, pinned here and listed in the README (HF Trainer semantics): bertforge's log entries
carry more keys (BERTFORGE_EXTRA), and evaluation entries more metrics. Everything else must be equal.
"""
import json
import pathlib
import random
import re
import shutil

import pytest

datasets = pytest.importorskip("datasets")
transformers = pytest.importorskip("transformers")

SOURCE_DIR = pathlib.Path(__file__).resolve().parents[2]
VOCAB = SOURCE_DIR / "tests" / "golden" / "trainer_steps" / "vocab.txt"
TRAIN_ROWS, EVAL_ROWS = 20, 200
COMMON = dict(per_device_train_batch_size=4, learning_rate=2e-2, seed=42)
# Keys bertforge logs beyond HF's, by kind of entry: the loss's two terms, and the MLM/NSP evaluation metrics.
BERTFORGE_EXTRA = {
    "train": {"mlm_loss", "nsp_loss"},
    "eval": {"eval_mlm_loss", "eval_perplexity", "eval_mlm_accuracy", "eval_mlm_top5_accuracy", "eval_nsp_loss",
             "eval_nsp_accuracy", "eval_samples", "eval_tokens", "eval_tokens_per_second"},
    "summary": set(),
}
STATE_FIELDS = ["global_step", "max_steps", "logging_steps", "eval_steps", "save_steps", "train_batch_size",
                "num_train_epochs"]
EPOCH = dict(logging_strategy="epoch", eval_strategy="epoch", save_strategy="epoch")

# name -> TrainingArguments (HF's names; bertforge gets each as --name value). Batch 4 over 20 rows: 5 steps an
# epoch unless a case changes the batch or accumulation. The best-model cases take the highest evaluation loss
# as the best: the first evaluation, by a margin the masks cannot undo, which also puts the best checkpoint
# behind the newest where rotation must protect it.
CASES = {
    "reference_per_epoch": dict(EPOCH, num_train_epochs=3, save_total_limit=2, logging_first_step=True),
    "steps_mixed_last_step_off_grid": dict(logging_strategy="steps", logging_steps=2, eval_strategy="steps",
                                           eval_steps=3, save_strategy="steps", save_steps=4, max_steps=11),
    "log_epoch_eval_steps_no_save": dict(logging_strategy="epoch", eval_strategy="steps", eval_steps=4,
                                         save_strategy="no", num_train_epochs=2),
    "log_no_first_step_eval_epoch_save_steps": dict(logging_strategy="no", logging_first_step=True,
                                                    eval_strategy="epoch", save_strategy="steps", save_steps=3,
                                                    num_train_epochs=2),
    "ratios": dict(logging_steps=0.2, eval_strategy="steps", eval_steps=0.25, save_steps=0.5, num_train_epochs=2),
    "no_loss_logged": dict(logging_steps=500, save_strategy="no", max_steps=3),
    "eval_steps_unset_follows_logging": dict(logging_steps=3, eval_strategy="steps", save_strategy="no", max_steps=7),
    "eval_on_start_and_delay_steps": dict(logging_steps=2, eval_strategy="steps", eval_steps=2, eval_delay=5,
                                          eval_on_start=True, save_strategy="no", max_steps=9),
    "eval_delay_epochs": dict(EPOCH, eval_delay=2, num_train_epochs=3),
    "save_total_limit_1_steps": dict(logging_steps=5, save_steps=3, save_total_limit=1, max_steps=10),
    "best_kept_from_rotation": dict(logging_steps=2, eval_strategy="steps", eval_steps=2, save_steps=2,
                                    save_total_limit=2, load_best_model_at_end=True, metric_for_best_model="loss",
                                    greater_is_better=True, max_steps=8),
    "best_alone_with_limit_1": dict(logging_steps=2, eval_strategy="steps", eval_steps=2, save_steps=2,
                                    save_total_limit=1, load_best_model_at_end=True, greater_is_better=True,
                                    max_steps=8),
    "best_per_epoch": dict(EPOCH, num_train_epochs=3, save_total_limit=2, load_best_model_at_end=True,
                           greater_is_better=True),
    "best_metric_without_loading": dict(logging_steps=3, eval_strategy="steps", eval_steps=3, save_steps=3,
                                        metric_for_best_model="eval_loss", greater_is_better=True, max_steps=9),
    "best_metric_without_saving": dict(logging_steps=3, eval_strategy="steps", eval_steps=3, save_strategy="no",
                                       metric_for_best_model="loss", max_steps=9),
    "accumulation_ragged": dict(gradient_accumulation_steps=2, logging_steps=1, eval_strategy="epoch",
                                save_strategy="epoch", num_train_epochs=2),
    "accumulation_divides": dict(gradient_accumulation_steps=5, logging_steps=1, save_strategy="epoch",
                                 num_train_epochs=3),
    "ragged_last_batch": dict(per_device_train_batch_size=6, logging_steps=1, save_strategy="epoch",
                              num_train_epochs=2),
    "dataloader_drop_last": dict(per_device_train_batch_size=6, dataloader_drop_last=True, logging_steps=1,
                                 save_strategy="epoch", num_train_epochs=2),
    "max_steps_mid_epoch": dict(EPOCH, max_steps=7),
    "max_steps_over_epochs": dict(logging_steps=4, save_steps=5, num_train_epochs=1, max_steps=12),
    "fractional_epochs": dict(EPOCH, num_train_epochs=1.5),
    "warmup_steps": dict(logging_steps=1, warmup_steps=3, save_strategy="no", max_steps=10),
    "warmup_ratio": dict(logging_steps=1, warmup_steps=0.25, save_strategy="no", max_steps=10),
    "save_only_model": dict(logging_steps=2, save_steps=3, save_only_model=True, max_steps=7),
    "logging_nan_inf_filter_off": dict(logging_steps=2, logging_nan_inf_filter=False, save_strategy="no",
                                       max_steps=5),
    "save_on_each_node": dict(logging_steps=2, save_steps=3, save_on_each_node=True, max_steps=7),
}
SCHEDULES = ["linear", "cosine", "cosine_with_restarts", "constant", "constant_with_warmup", "polynomial",
             "inverse_sqrt"]
for kind in SCHEDULES:
    CASES[f"schedule_{kind}"] = dict(lr_scheduler_type=kind, warmup_steps=2, logging_steps=1, save_strategy="no",
                                     max_steps=9)
# bertforge also takes HF 4's warmup_ratio, which HF 5 spells as warmup_steps below 1.
BERTFORGE_ARGS = {"warmup_ratio": dict(CASES["warmup_ratio"], warmup_steps=0, warmup_ratio=0.25)}


@pytest.fixture(scope="session")
def schedule_data(tmp_path_factory):
    """train.hf and eval.hf (save_to_disk folders of ids, as the reference's wikiTokenizedValid.hf) and a tiny
    BertConfig over the in-repo vocabulary."""
    root = tmp_path_factory.mktemp("schedule")
    words = VOCAB.read_text().splitlines()
    cls, sep = words.index("[CLS]"), words.index("[SEP]")
    rng = random.Random(0)
    ids = range(5, len(words))
    zipf = [1 / (i - 4) for i in ids]

    def rows(n):
        out = {"input_ids": [], "token_type_ids": [], "attention_mask": [], "next_sentence_label": []}
        for _ in range(n):
            a = rng.choices(ids, zipf, k=rng.randint(3, 10))
            b = rng.choices(ids, zipf, k=rng.randint(3, 10))
            out["input_ids"].append([cls, *a, sep, *b, sep])
            out["token_type_ids"].append([0] * (len(a) + 2) + [1] * (len(b) + 1))
            out["attention_mask"].append([1] * (len(a) + len(b) + 3))
            out["next_sentence_label"].append(rng.randrange(2))
        return out

    datasets.Dataset.from_dict(rows(TRAIN_ROWS)).save_to_disk(str(root / "train.hf"))
    datasets.Dataset.from_dict(rows(EVAL_ROWS)).save_to_disk(str(root / "eval.hf"))
    transformers.BertConfig(vocab_size=len(words), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                            intermediate_size=32, max_position_embeddings=32).save_pretrained(root / "model")
    return root


class Saves(transformers.TrainerCallback):
    def __init__(self):
        self.steps = []

    def on_save(self, args, state, control, **kwargs):
        self.steps.append(state.global_step)


def checkpoints(folder):
    names = [p.name for p in pathlib.Path(folder).glob("checkpoint-*") if re.fullmatch(r"checkpoint-\d+", p.name)]
    return sorted(names, key=lambda n: int(n.split("-")[1]))


def hf_run(data, out, args, resume=None):
    """HF Trainer on the case; what it observably did."""
    transformers.set_seed(42)
    model = transformers.BertForPreTraining(transformers.BertConfig.from_pretrained(data / "model"))
    tokenizer = transformers.BertTokenizerFast(vocab_file=str(VOCAB))
    targs = transformers.TrainingArguments(**{**COMMON, **args}, output_dir=str(out), use_cpu=True, report_to=[],
                                           disable_tqdm=True, dataloader_num_workers=0)
    saves = Saves()
    trainer = transformers.Trainer(
        model=model, args=targs, train_dataset=datasets.load_from_disk(str(data / "train.hf")),
        eval_dataset=datasets.load_from_disk(str(data / "eval.hf")), callbacks=[saves],
        data_collator=transformers.DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15))
    trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    final = json.loads(json.dumps(trainer.state.__dict__, default=lambda o: None))
    return observed(out, final, saves.steps)


def bertforge_run(run_bertforge, data, out, args, resume=None):
    argv = ["pretrain", "--model", data / "model" / "config.json", "--tokenizer", VOCAB, "--train_data",
            data / "train.hf", "--eval_data", data / "eval.hf", "--output_dir", out, "--device", "cpu", "--threads",
            "1"]
    for key, value in {**COMMON, **args}.items():
        argv += [f"--{key}", str(value).lower() if isinstance(value, bool) else str(value)]
    if resume:
        argv += ["--resume_from_checkpoint", resume]
    proc = run_bertforge(*argv)
    saves = [int(m) for m in re.findall(r"^saved .*checkpoint-(\d+)$", proc.stderr, re.MULTILINE)]
    return observed(out, json.loads((out / "trainer_state.json").read_text()), saves)


def observed(out, final, saves):
    kept = checkpoints(out)
    last = json.loads((out / kept[-1] / "trainer_state.json").read_text()) if kept else None
    return {"final": final, "saves": saves, "kept": kept, "last_checkpoint": last}


def kind(entry):
    return "train" if "loss" in entry else "eval" if "eval_loss" in entry else "summary" if "train_loss" in entry else "other"


def compare(ours, hf):
    """Every observable difference between two runs (bertforge's and HF's, or two of one side), as readable
    lines (empty: none)."""
    diffs = []

    def differ(what, a, b):
        if a != b:
            diffs.append(f"{what}: bertforge {a!r}, HF {b!r}")

    def steps_of(run, k):
        return [e["step"] for e in run["final"]["log_history"] if kind(e) == k]

    for k in ["train", "eval", "summary"]:
        differ(f"{k} log steps", steps_of(ours, k), steps_of(hf, k))
    differ("saves at steps", ours["saves"], hf["saves"])
    differ("checkpoints kept", ours["kept"], hf["kept"])
    for name, a, b in [("end", ours["final"], hf["final"]), ("last checkpoint", ours["last_checkpoint"], hf["last_checkpoint"])]:
        if a is None or b is None:
            differ(f"{name} state present", a is not None, b is not None)
            continue
        for field in STATE_FIELDS:
            differ(f"{name} {field}", a[field], b[field])
        differ(f"{name} epoch", round(a["epoch"], 12), round(b["epoch"], 12))
        differ(f"{name} best_metric set", a["best_metric"] is not None, b["best_metric"] is not None)
        differ(f"{name} best_global_step", a["best_global_step"], b["best_global_step"])
        best = lambda s: s["best_model_checkpoint"] and pathlib.Path(s["best_model_checkpoint"]).name
        differ(f"{name} best_model_checkpoint", best(a), best(b))
        differ(f"{name} log_history length", len(a["log_history"]), len(b["log_history"]))
        for i, (x, y) in enumerate(zip(a["log_history"], b["log_history"])):
            differ(f"{name} entry {i} kind", kind(x), kind(y))
            extra = BERTFORGE_EXTRA.get(kind(x), set())
            differ(f"{name} entry {i} keys", set(x) - extra, set(y) - extra)
            differ(f"{name} entry {i} step", x["step"], y["step"])
            differ(f"{name} entry {i} epoch", round(x.get("epoch", -1), 12), round(y.get("epoch", -1), 12))
            if kind(x) == kind(y) == "train":
                differ(f"{name} entry {i} learning_rate", x["learning_rate"], pytest.approx(y["learning_rate"], rel=1e-12))
    return diffs


@pytest.mark.parametrize("case", sorted(CASES))
def test_schedule_matches_hf_trainer(case, schedule_data, run_bertforge, tmp_path):
    args = CASES[case]
    hf = hf_run(schedule_data, tmp_path / "hf", args)
    ours = bertforge_run(run_bertforge, schedule_data, tmp_path / "bf", BERTFORGE_ARGS.get(case, args))
    assert compare(ours, hf) == []


@pytest.mark.parametrize("at_step", [3, 5])
def test_resume_keeps_the_schedule(at_step, schedule_data, run_bertforge, tmp_path):
    """A run resumed from a checkpoint (mid-epoch at 3, at an epoch's end at 5) does what the uninterrupted run
    does after it, on both sides, and the two sides agree."""
    args = dict(logging_steps=2, eval_strategy="steps", eval_steps=4, save_steps=1, save_total_limit=0,
                max_steps=12, logging_first_step=True)
    runs = {}
    for side, run in [("hf", lambda out, resume=None: hf_run(schedule_data, out, args, resume)),
                      ("bf", lambda out, resume=None: bertforge_run(run_bertforge, schedule_data, out, args, resume))]:
        whole = run(tmp_path / f"{side}-whole")
        shutil.copytree(tmp_path / f"{side}-whole" / f"checkpoint-{at_step}", tmp_path / f"{side}-resumed" / f"checkpoint-{at_step}")
        resumed = run(tmp_path / f"{side}-resumed", tmp_path / f"{side}-resumed" / f"checkpoint-{at_step}")
        whole["saves"] = [s for s in whole["saves"] if s > at_step]
        whole["kept"] = [c for c in whole["kept"] if int(c.split("-")[1]) >= at_step]
        assert compare(resumed, whole) == [], side
        runs[side] = resumed
    assert compare(runs["bf"], runs["hf"]) == []
