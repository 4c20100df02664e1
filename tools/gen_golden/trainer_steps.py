"""Writes tests/golden/trainer_steps/: 20 optimizer steps of HF Trainer (transformers in the venv) on exactly the
batches `bertforge pretrain` trains on, for tests/python/test_trainer_golden.py to hold bertforge's steps to.

  vocab.txt                    a WordPiece vocabulary trained by `bertforge train-tokenizer` on Genesis 1-4 (KJV)
  config.json, model.safetensors   a tiny BertForPreTraining, dropout 0, initialised by transformers (seed 0)
  expected.json                the run's settings, the SHA-256 of the batches, and each step's loss, grad_norm
                               and learning_rate as HF Trainer logs them

How: `bertforge prepare` makes the data (max_seq_length 32) and `bertforge pretrain --dump_batches` trains on it
with gradient accumulation 2, clipping at 0.5, linear warm-up over 5 of 20 steps and AdamW with weight decay,
writing every micro-batch as the model sees it (order, padding and masks from bertforge's loader and collator).
HF Trainer then trains the same initial model on those 40 micro-batches in the same order (one pre-collated
batch per item, train_sampling_strategy "sequential") with the same TrainingArguments.

The loss: bertforge divides the MLM cross-entropy by the labelled tokens of the whole optimizer step (both
micro-batches) and the NSP cross-entropy by the step's sequences (average_tokens_across_devices). HF 5's Trainer
counts those tokens (num_items_in_batch) and hands them to the model, but BertForPreTraining ignores them and
returns each micro-batch's own mean, which the Trainer then does not divide by the accumulation steps (it
believes the model normalised): its gradient is twice the step mean's, and clipping bites twice as hard. So the
reference here is HF Trainer with compute_loss overridden to the normalisation HF intends for models that take
num_items_in_batch (MLM sum / num_items_in_batch, NSP sum / the step's sequences; loss_is_scaled_for_ga). What
the stock Trainer logs on the same batches is recorded beside it (hf_builtin) for the record, not compared.

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
STEPS, ACCUMULATION, BATCH = 20, 2, 4
ARGS = dict(learning_rate=2e-3, warmup_steps=5, lr_scheduler_type="linear", max_grad_norm=0.5, weight_decay=0.01,
            adam_beta1=0.9, adam_beta2=0.999, adam_epsilon=1e-8, optim="adamw_torch", seed=42)
CONFIG = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
              max_position_embeddings=64, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)


def corpus(path):
    if shutil.which("bible") is None:
        sys.exit("trainer_steps.py: `bible` not found: the KJV comes from Debian's bible-kjv (scripts/setup.sh)")
    path.write_text(subprocess.run(["bible", "-f", VERSES], capture_output=True, text=True, check=True).stdout)
    return path


def bertforge_args(data, model, out):
    """The pretrain command line; the test runs the same one (from expected.json)."""
    args = ["pretrain", "--model", model, "--train_data", data, "--output_dir", out, "--device", "cpu",
            "--threads", "1", "--quiet", "--max_steps", STEPS, "--gradient_accumulation_steps", ACCUMULATION,
            "--per_device_train_batch_size", BATCH, "--logging_steps", 1, "--save_strategy", "no",
            "--dataloader_drop_last", "true"]
    for key, value in ARGS.items():
        args += [f"--{key}", value]
    return [str(a) for a in args]


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


def hf_steps(trainer_class, model_dir, batches, out):
    model = transformers.BertForPreTraining.from_pretrained(model_dir)
    args = transformers.TrainingArguments(
        output_dir=str(out), max_steps=STEPS, gradient_accumulation_steps=ACCUMULATION, per_device_train_batch_size=1,
        logging_steps=1, save_strategy="no", report_to=[], use_cpu=True, disable_tqdm=True,
        train_sampling_strategy="sequential", remove_unused_columns=False, dataloader_num_workers=0, **ARGS)
    trainer = trainer_class(model=model, args=args, train_dataset=batches, data_collator=lambda items: items[0])
    trainer.train()
    return [{k: e[k] for k in ["step", "loss", "grad_norm", "learning_rate"]}
            for e in trainer.state.log_history if "loss" in e]


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
        run(*bertforge_args(tmp / "data", OUT, tmp / "bf"), "--dump_batches", tmp / "batches")
        files = sorted((tmp / "batches").glob("batch-0-*.safetensors"))
        assert len(files) == STEPS * ACCUMULATION, len(files)
        batches = [{k: v.to(torch.long) for k, v in safetensors.torch.load_file(f).items()} for f in files]
        assert all(b["input_ids"].shape[0] == BATCH for b in batches)
        expected = {
            "generator": "tools/gen_golden/trainer_steps.py",
            "transformers": transformers.__version__, "torch": torch.__version__,
            "corpus": f"bible -f {VERSES}", "prepare": PREPARE,
            "pretrain": bertforge_args("{data}", "{model}", "{output_dir}"),
            "batches_sha256": batch_digest(tmp / "batches"),
            "steps": hf_steps(StepNormalisedTrainer, OUT, batches, tmp / "hf"),
            "hf_builtin": hf_steps(transformers.Trainer, OUT, batches, tmp / "hf_builtin"),
        }
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
