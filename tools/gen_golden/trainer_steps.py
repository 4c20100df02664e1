"""Writes tests/golden/trainer_steps/: runs of HF Trainer (transformers in the venv) on exactly the batches
`bertforge pretrain` trains on, for tests/python/test_trainer_golden.py to hold bertforge's steps to.

  vocab.txt                    a WordPiece vocabulary trained by `bertforge train-tokenizer` on Genesis 1-4 (KJV)
  config.json, model.safetensors   a tiny BertForPreTraining, dropout 0, initialised by transformers (seed 0)
  expected.json                each run's command line, the SHA-256 of its batches, and what HF Trainer logged
                               (loss, grad_norm, learning_rate, epoch at every logged step)
  final-<run>.safetensors      HF's weights at the end of each run

The runs (RUNS): 20 steps with gradient accumulation 2, clipping at 0.5, linear warm-up over 5 steps and AdamW
with weight decay, logged every step, once with torch's single-tensor AdamW (adamw_torch) and once with HF 5's
default fused AdamW (adamw_torch_fused); and 3 epochs with the epoch strategies of the reference (logging and
saving per epoch) under accumulation 2 over an odd number of batches per epoch, so each epoch ends in a step of
one micro-batch.

How: `bertforge prepare` makes the data (max_seq_length 32) and `bertforge pretrain --dump_batches` trains,
writing every micro-batch as the model sees it (order, padding and masks from bertforge's loader and collator).
HF Trainer then trains the same initial model on those micro-batches, epoch by epoch in the same order (a
loader that hands HF each epoch's batches, so HF's own epochs, accumulation groups and events apply), with
the same TrainingArguments.

The loss: bertforge divides the MLM cross-entropy by the labelled tokens of the whole optimizer step (all its
micro-batches) and the NSP cross-entropy by the step's sequences (average_tokens_across_devices). HF 5's Trainer
counts those tokens (num_items_in_batch) and hands them to the model, but BertForPreTraining ignores them and
returns each micro-batch's own mean, which the Trainer then does not divide by the accumulation steps (it
believes the model normalised): its gradient is twice the step mean's, and clipping bites twice as hard. So the
reference here is HF Trainer with compute_loss overridden to the normalisation HF intends for models that take
num_items_in_batch (MLM sum / num_items_in_batch, NSP sum / the step's sequences; loss_is_scaled_for_ga). What
the stock Trainer logs on the first run's batches is recorded beside it (hf_builtin) for the record, not compared.

Run: ~/.local/share/bertforge/venv/bin/python tools/gen_golden/trainer_steps.py [path/to/bertforge]
"""
import hashlib
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile

import safetensors.torch
import torch
import transformers

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "golden" / "trainer_steps"
VERSES = "gen1:1-gen4:26"
PREPARE = ["--max_seq_length", "32", "--threads", "1", "--seed", "7"]
COMMON = dict(per_device_train_batch_size=4, learning_rate=2e-3, warmup_steps=5, lr_scheduler_type="linear", max_grad_norm=0.5, weight_decay=0.01,
              adam_beta1=0.9, adam_beta2=0.999, adam_epsilon=1e-8, seed=42, gradient_accumulation_steps=2)
STEPS = dict(COMMON, max_steps=20, logging_steps=1, save_strategy="no", dataloader_drop_last=True)
RUNS = {
    "adamw_torch": dict(STEPS, optim="adamw_torch"),
    "adamw_torch_fused": dict(STEPS, optim="adamw_torch_fused"),
    "per_epoch": dict(COMMON, per_device_train_batch_size=8, optim="adamw_torch_fused", num_train_epochs=3,
                      logging_strategy="epoch", save_strategy="epoch"),
}
CONFIG = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
              max_position_embeddings=64, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)


def corpus(path):
    if shutil.which("bible") is None:
        sys.exit("trainer_steps.py: `bible` not found: the KJV comes from Debian's bible-kjv (scripts/setup.sh)")
    path.write_text(subprocess.run(["bible", "-f", VERSES], capture_output=True, text=True, check=True).stdout)
    return path


def bertforge_args(run, data, model, out):
    """The pretrain command line of a run; the test runs the same one (from expected.json)."""
    args = ["pretrain", "--model", model, "--train_data", data, "--output_dir", out, "--device", "cpu",
            "--threads", "1", "--quiet"]
    for key, value in RUNS[run].items():
        args += [f"--{key}", str(value).lower() if isinstance(value, bool) else value]
    return [str(a) for a in args]


def batches_per_epoch(run, data):
    sequences = sum(s["sequences"] for s in json.loads((data / "manifest.json").read_text())["shards"])
    batch = RUNS[run]["per_device_train_batch_size"]
    return sequences // batch if RUNS[run].get("dataloader_drop_last") else -(-sequences // batch)


def batch_digest(folder):
    """SHA-256 over every dumped micro-batch's tensors (names, dtypes, shapes, bytes), in order."""
    h = hashlib.sha256()
    for path in sorted(folder.glob("batch-0-*.safetensors")):
        tensors = safetensors.torch.load_file(path)
        for name in sorted(tensors):
            t = tensors[name].to(torch.int64).contiguous()
            h.update(f"{path.name}:{name}:{list(t.shape)};".encode())
            h.update(t.numpy().tobytes())
    return h.hexdigest()


class StepNormalisedTrainer(transformers.Trainer):
    """HF Trainer whose loss is normalised over the whole optimizer step, as HF intends with num_items_in_batch."""

    loss_is_scaled_for_ga = True

    def get_batch_samples(self, epoch_iterator, num_batches, device):
        batches, num_items = super().get_batch_samples(epoch_iterator, num_batches, device)
        self.step_tokens = sum(int(b["labels"].ne(-100).sum()) for b in batches)
        self.step_sequences = sum(int(b["input_ids"].shape[0]) for b in batches)
        assert int(num_items) == self.step_tokens, (num_items, self.step_tokens)
        return batches, num_items

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        inputs = dict(inputs)
        labels, nsp_labels = inputs.pop("labels"), inputs.pop("next_sentence_label")
        out = model(**inputs)
        vocab = out.prediction_logits.shape[-1]
        mlm = torch.nn.functional.cross_entropy(out.prediction_logits.reshape(-1, vocab), labels.reshape(-1),
                                                ignore_index=-100, reduction="sum") / num_items_in_batch
        nsp = torch.nn.functional.cross_entropy(out.seq_relationship_logits.reshape(-1, 2), nsp_labels.reshape(-1),
                                                reduction="sum") / self.step_sequences
        return (mlm + nsp, out) if return_outputs else mlm + nsp


class EpochBatches:
    """A loader handing HF Trainer each epoch's pre-collated micro-batches (HF calls set_epoch before each)."""

    def __init__(self, epochs):
        self.epochs, self.epoch, self.dataset = epochs, 0, epochs[0]

    def __len__(self):
        return len(self.epochs[0])

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __iter__(self):
        return iter(self.epochs[self.epoch])


def hf_run(trainer_class, run, model_dir, epochs, out):
    """HF Trainer on the epochs' batches; its logged steps and final weights."""
    model = transformers.BertForPreTraining.from_pretrained(model_dir)
    args = transformers.TrainingArguments(output_dir=str(out), report_to=[], use_cpu=True, disable_tqdm=True,
                                          **RUNS[run])
    trainer_type = type("OnBertforgeBatches", (trainer_class,), {"get_train_dataloader": lambda self: EpochBatches(epochs)})
    trainer = trainer_type(model=model, args=args)
    trainer.train()
    logged = [{k: e[k] for k in ["step", "epoch", "loss", "grad_norm", "learning_rate"]}
              for e in trainer.state.log_history if "loss" in e]
    tied = {"cls.predictions.decoder.weight", "cls.predictions.decoder.bias"}  # the embeddings', the head's bias
    weights = {k: v.detach().clone().contiguous() for k, v in trainer.model.state_dict().items() if k not in tied}
    return logged, weights


def main():
    bertforge = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "build" / "bertforge")
    run = lambda *a: subprocess.run([bertforge, *map(str, a)], check=True, capture_output=True, text=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        text = corpus(tmp / "genesis.txt")
        run("train-tokenizer", text, "--vocab-size", 300, "-o", tmp / "tokenizer")
        if OUT.exists():
            shutil.rmtree(OUT)
        OUT.mkdir(parents=True)
        shutil.copy(tmp / "tokenizer" / "vocab.txt", OUT / "vocab.txt")
        vocab_size = len((OUT / "vocab.txt").read_text().splitlines())
        transformers.set_seed(0)
        transformers.BertForPreTraining(transformers.BertConfig(vocab_size=vocab_size, **CONFIG)).save_pretrained(OUT)
        run("prepare", text, "--vocab", OUT / "vocab.txt", "-o", tmp / "data", *PREPARE)
        expected = {"generator": "tools/gen_golden/trainer_steps.py", "transformers": transformers.__version__,
                    "torch": torch.__version__, "corpus": f"bible -f {VERSES}", "prepare": PREPARE, "runs": {}}
        for name in RUNS:
            run(*bertforge_args(name, tmp / "data", OUT, tmp / name), "--dump_batches", tmp / f"{name}-batches")
            files = sorted((tmp / f"{name}-batches").glob("batch-0-*.safetensors"))
            batches = [{k: v.to(torch.long) for k, v in safetensors.torch.load_file(f).items()} for f in files]
            per_epoch = batches_per_epoch(name, tmp / "data")
            epochs = [batches[i:i + per_epoch] for i in range(0, len(batches), per_epoch)]
            logged, weights = hf_run(StepNormalisedTrainer, name, OUT, epochs, tmp / f"hf-{name}")
            safetensors.torch.save_file(weights, OUT / f"final-{name}.safetensors")
            (OUT / f"final-{name}.safetensors").chmod(0o644)
            expected["runs"][name] = {"pretrain": bertforge_args(name, "{data}", "{model}", "{output_dir}"),
                                      "batches_per_epoch": per_epoch,
                                      "batches_sha256": batch_digest(tmp / f"{name}-batches"), "steps": logged}
            if name == "adamw_torch":
                expected["runs"][name]["hf_builtin"] = hf_run(transformers.Trainer, name, OUT, epochs,
                                                              tmp / "hf-builtin")[0]
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
